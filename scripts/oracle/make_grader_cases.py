#!/usr/bin/env python3
"""Writes a seeded corpus of realistic completions for the six math data sets, to be labelled by SimpleRL's real
grader (shared/grader-oracle/label.py) and committed as the fixture GraderOracleTest reads.

Every row pairs one REAL gold answer of a data set (as `rast grade` takes it: the `answer` field, the content of the
solution's last box for Minerva, the text after #### for GSM8K, final_answer[0] for OlympiadBench) with a completion
built from three independent choices:
  - the answer: the gold itself, an equivalent rewrite (fractions, decimals, percent, units, degrees, thousands
    separators, scientific notation, sqrt and pi forms, tuples, sets, matrices, equations, text wrappers...), a wrong
    answer (off by one, sign, near-miss decimals, free variables beside large constants...), or one of the real
    grader's known quirks (an unbracketed list, a numeric value of a pi answer, 4.5e33, 1\\,260, \\displaystyle,
    a letter before parentheses, \\boxed{0});
  - the wrapper: \\boxed{} after reasoning text taken from the data set's own solutions, "The answer is", Minerva's
    "final answer is $...$. I hope", no marker (last number), nested, unbalanced or two boxes, prose after the
    answer, stop words, empty and very long completions;
  - the reasoning text around it.
Plain Python, no network, no third-party modules; the same seed gives the same file.

  python3 scripts/oracle/make_grader_cases.py --datasets ../shared/datasets --seed 19,20 > cases.jsonl
  .grader-oracle/bin/python ../shared/grader-oracle/label.py < cases.jsonl > labelled.jsonl
  gzip -9 < labelled.jsonl > eval/src/test/resources/dev/rast/eval/grader-oracle-cases.jsonl.gz
"""
import argparse
import json
import math
import os
import random
import re

QUOTAS = {"math500": 2600, "olympiadbench": 2000, "minerva_math": 1400, "gsm8k": 1700, "aime24": 500, "amc23": 500}


# ---------------------------------------------------------------------------------------------------- golds

def last_boxed(text):
    """The content of the last \\boxed{...} of a solution, by brace depth (as the real extractor reads it)."""
    i = text.rfind("boxed")
    if i < 0:
        return None
    rest = text[i + 5:]
    if not rest.startswith("{"):
        return rest.split("$")[0].strip()
    depth, out = 0, []
    for c in rest[1:]:
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
        out.append(c)
    return "".join(out)


def unbox(text):
    """A solution's text with every \\boxed{X} replaced by X: reasoning to put around a new answer."""
    out, i = [], 0
    while True:
        j = text.find("\\boxed{", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k, depth = j + 7, 1
        while k < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        out.append(text[j + 7:k - 1])
        i = k


def load(datasets_dir):
    """Per data set: list of (gold as `rast grade` takes it, reasoning text)."""
    out = {}
    for name in QUOTAS:
        rows = [json.loads(l) for l in open(os.path.join(datasets_dir, name, "test.jsonl"), encoding="utf-8")]
        items = []
        for r in rows:
            if name == "math500":
                gold, why = r["answer"], unbox(r["solution"])
            elif name == "minerva_math":
                gold, why = last_boxed(r["solution"]), unbox(r["solution"])
            elif name == "gsm8k":
                why, gold = r["answer"].split("####")
                gold, why = gold.strip(), re.sub(r"<<.*?>>", "", why).strip()
            elif name == "olympiadbench":
                gold, why = r["final_answer"][0], unbox(r["solution"][0]) if r["solution"] else ""
            elif name == "aime24":
                gold, why = str(r["answer"]), unbox(r["solution"])
            else:  # amc23: the answer is a JSON float such as 27.0
                gold, why = str(r["answer"]), ""
            items.append((gold, why))
        out[name] = items
    return out


# ---------------------------------------------------------------------------------------------------- numbers

def num_value(latex):
    """The value of a simple LaTeX number (int, decimal, fraction, sqrt, pi multiple...), or None."""
    s = latex.strip().strip("$").replace("\\left", "").replace("\\right", "").replace("\\!", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace(" ", "").replace("{,}", "")
    if re.search(r"[a-zA-Z]", re.sub(r"\\(frac|sqrt|pi|cdot|times)", "", s)):
        return None
    e = s
    for _ in range(6):
        e = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", e)
        e = re.sub(r"\\sqrt\[([^\]]*)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", e)
        e = re.sub(r"\\sqrt\{([^{}]*)\}", r"((\1)**0.5)", e)
        e = re.sub(r"\\sqrt(\d)", r"((\1)**0.5)", e)
        e = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", e)
    e = e.replace("\\pi", "(PI)").replace("\\cdot", "*").replace("\\times", "*").replace("^", "**")
    e = re.sub(r"(\d|\))\s*\(", r"\1*(", e)
    e = re.sub(r"\)(\d)", r")*\1", e)
    if not re.fullmatch(r"[0-9.+\-*/()PI ]+", e):
        return None
    try:
        v = eval(e, {"__builtins__": {}}, {"PI": math.pi})
    except Exception:
        return None
    if isinstance(v, complex) or v is None or math.isnan(v) or math.isinf(v):
        return None
    return float(v)


INT = re.compile(r"-?\d+")
DEC = re.compile(r"-?\d*\.\d+")
FRAC = re.compile(r"(-?)\\[dt]?frac\{(-?\d+)\}\{(\d+)\}")
SCI = re.compile(r"(-?\d+(?:\.\d+)?)[eE](-?\+?\d+)")


def fmt_sig(v, digits):
    return ("%." + str(digits) + "g") % v


def fmt_fixed(v, decimals):
    return ("%." + str(decimals) + "f") % v


def with_sep(n, sep):
    """1260 with a thousands separator: 1,260 / 1\\,260 / 1{,}260 / 1 260."""
    neg, digits = n.startswith("-"), n.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ("-" if neg else "") + sep.join(groups)


def words(n):
    ones = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
           "seventeen eighteen nineteen".split()
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    if n < 20:
        return ones[n]
    if n < 100:
        return tens[n // 10 - 2] + ("" if n % 10 == 0 else "-" + ones[n % 10])
    if n < 1000:
        return ones[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + words(n % 100))
    return None


def sci_forms(v, rng):
    """Scientific-notation spellings of v."""
    exp = int(math.floor(math.log10(abs(v)))) if v else 0
    mant = v / 10 ** exp
    m = rng.choice([fmt_sig(mant, 2), fmt_sig(mant, 3), fmt_sig(mant, 4)])
    return [m + "e" + str(exp), m + "E" + str(exp), m + " \\times 10^{" + str(exp) + "}", m + "\\times10^{" + str(exp) + "}",
            m + " \\cdot 10^{" + str(exp) + "}", m + " \\times 10^" + str(exp), m + "*10^" + str(exp),
            m + " x 10^" + str(exp), m + "e+" + str(exp) if exp > 0 else m + "e" + str(exp)]


# ---------------------------------------------------------------------------------------------------- answer variants

UNITS = ["\\text{ cm}", "\\text{ dollars}", " dollars", "\\text{ meters}", " m", "\\,\\text{m}", "~\\text{kg}",
         "\\text{ units}", " \\text{square units}", "\\mbox{ inches}", " apples", "\\text{ hours}", " \\mathrm{s}",
         "\\ \\text{miles}", " \\text{cm}^2", "\\text{ degrees}", " km/h", " \\mathrm{~J}", " \\mathrm{eV}", " years"]
LETTERS = "xnykabtm"


def top_level_split(s, seps=","):
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def equivalents(g, ds, rng):
    """Rewrites of gold text g that a reader would call equal (the real grader may not)."""
    s = g.strip().strip("$").strip()
    out = [("same", g), ("same-stripped", s)]
    v = num_value(s)
    if INT.fullmatch(s):
        n = int(s)
        out += [("int-dot0", s + ".0"), ("int-dot00", s + ".00"), ("unit", s + rng.choice(UNITS)),
                ("dollar", "\\$" + s), ("dollar-text", "\\$" + s + "\\text{ dollars}"),
                ("degree", s + "^\\circ"), ("degree-brace", s + "^{\\circ}"), ("eq-x", "x = " + s),
                ("eq-n", "n=" + s), ("eq-word", "N = " + s), ("text", "\\text{" + s + "}"),
                ("mathbf", "\\mathbf{" + s + "}"), ("paren", "(" + s + ")"), ("displaystyle", "\\displaystyle " + s),
                ("displaystyle-brace", "{\\displaystyle " + s + "}"), ("trailing-period", s + "."),
                ("leading-zeros", ("00" + s) if n >= 0 else s), ("plus", "+" + s if n >= 0 else s),
                ("approx", "\\approx " + s), ("tilde-units", s + "~\\text{units}"),
                ("mathrm-units", s + " \\mathrm{~cm}"), ("bold", "\\textbf{" + s + "}"), ("spaced", " " + s + " "),
                ("negspace", s + "\\!"), ("unicode-times-units", s + " × 1"), ("eq-spaced", "x \\, = \\, " + s),
                ("answer-text", "\\text{Answer: }" + s), ("dollar-inside", "$" + s + "$")]
        if abs(n) >= 1000:
            out += [("sep-comma", with_sep(s, ",")), ("sep-thin", with_sep(s, "\\,")),
                    ("sep-brace", with_sep(s, "{,}")), ("sep-space", with_sep(s, " ")),
                    ("sep-thinspace-units", with_sep(s, "\\,") + "\\text{ dollars}"),
                    ("sep-comma-dollar", "\\$" + with_sep(s, ",")), ("sci", rng.choice(sci_forms(n, rng)))]
        if 0 <= n < 1000:
            w = words(n)
            if w:
                out.append(("words", w))
        if n < 0:
            out += [("unicode-minus", "\u2212" + s[1:]), ("neg-paren", "(" + s + ")"), ("neg-space", "- " + s[1:])]
        if 0 < n <= 100:
            out.append(("percent", s + "\\%"))
    elif DEC.fullmatch(s) and v is not None:
        out += [("dec-trailing0", s + "0"), ("dec-lead0", ("0" + s) if s.startswith(".") else s),
                ("unit", s + rng.choice(UNITS)), ("dec-sig3", fmt_sig(v, 3)), ("dec-percent", fmt_sig(v * 100, 6) + "\\%"),
                ("dec-percent-plain", fmt_sig(v * 100, 6) + "%"), ("text", "\\text{" + s + "}"),
                ("eq-x", "x=" + s), ("sci", rng.choice(sci_forms(v, rng))) if v else ("same", s)]
        if 0 < abs(v) < 10:
            from fractions import Fraction
            f = Fraction(s).limit_denominator(1000)
            if abs(float(f) - v) < 1e-12:
                out += [("dec-as-frac", "\\frac{%d}{%d}" % (f.numerator, f.denominator)),
                        ("dec-as-slash", "%d/%d" % (f.numerator, f.denominator))]
    elif SCI.fullmatch(s):
        m, e = SCI.fullmatch(s).groups()
        e = e.lstrip("+")
        out += [("sci-times", m + " \\times 10^{" + e + "}"), ("sci-times-tight", m + "\\times10^{" + e + "}"),
                ("sci-cdot", m + " \\cdot 10^{" + e + "}"), ("sci-E", m + "E" + e), ("sci-e-plus", m + "e+" + e),
                ("sci-unit", m + " \\times 10^{" + e + "} \\text{ m}"), ("sci-float", repr(float(s))),
                ("sci-times-noparen", m + " \\times 10^" + e), ("sci-star", m + "*10**" + e)]
        if abs(int(e)) < 8:
            out.append(("sci-expanded", repr(float(s))))
    elif FRAC.fullmatch(s):
        sign, a, b = FRAC.fullmatch(s).groups()
        a2 = ("-" if sign else "") + a
        out += [("frac-cdot-inverse", a2 + " \\cdot \\frac{1}{" + b + "}"), ("frac-div", a2 + " \\div " + b),
                ("frac-ratio", a2 + ":" + b), ("frac-text", "\\text{" + a2 + "/" + b + "}"),
                ("frac-unicode-minus", ("\u2212" if sign else "") + "\\frac{" + a + "}{" + b + "}")]
        out += [("frac-slash", a2 + "/" + b), ("frac-dfrac", sign + "\\dfrac{" + a + "}{" + b + "}"),
                ("frac-tfrac", sign + "\\tfrac{" + a + "}{" + b + "}"), ("frac-paren", "(" + a2 + ")/(" + b + ")"),
                ("frac-neg-inside", "\\frac{" + a2 + "}{" + b + "}"),
                ("frac-nobrace", (sign + "\\frac" + a + b) if len(a) == 1 and len(b) == 1 else s),
                ("frac-unreduced", sign + "\\frac{" + str(2 * int(a)) + "}{" + str(2 * int(b)) + "}"),
                ("frac-spaces", sign + "\\frac { " + a + " } { " + b + " }"),
                ("frac-left-right", "\\left(" + s + "\\right)"),
                ("frac-unit", s + rng.choice(UNITS)), ("frac-eq", "x = " + s), ("frac-display", "\\displaystyle" + s)]
        if v is not None:
            out += [("frac-dec4", fmt_sig(v, 4)), ("frac-dec6", fmt_sig(v, 6)), ("frac-dec10", repr(v)),
                    ("frac-dec2", fmt_fixed(v, 2))]
            if 0 < v < 1:
                out.append(("frac-percent", fmt_sig(v * 100, 6) + "\\%"))
            if abs(v) > 1 and int(a) % int(b):
                whole = int(abs(v))
                rem = int(a) - whole * int(b)
                out.append(("frac-mixed", sign + str(whole) + "\\frac{" + str(rem) + "}{" + b + "}"))
    else:
        out += [("nospace", s.replace(" ", "")), ("dfrac", s.replace("\\frac", "\\dfrac")),
                ("left-right", s.replace("(", "\\left(").replace(")", "\\right)")),
                ("cdot", re.sub(r"(\d) ?(\\sqrt|\\pi|[a-z])", r"\1 \\cdot \2", s)),
                ("times", re.sub(r"(\d) ?(\\sqrt|\\pi)", r"\1 \\times \2", s)),
                ("text-wrap", "\\text{" + s + "}") if "\\text" not in s else ("text-unwrap", re.sub(r"\\text\{(.*?)\}", r"\1", s)),
                ("spaces", re.sub(r"([+\-=,])", r" \1 ", s)), ("display", "\\displaystyle " + s),
                ("unit", s + rng.choice(UNITS))]
        if "\\sqrt{" in s:
            m = re.fullmatch(r"\\frac\{(\d*)\\sqrt\{(\d+)\}\}\{(\d+)\}", s)
            if m:
                k, r, d = m.groups()
                out += [("sqrt-slash", (k or "") + "\\sqrt{" + r + "}/" + d),
                        ("sqrt-frac-outside", "\\frac{" + (k or "1") + "}{" + d + "}\\sqrt{" + r + "}")]
            out += [("sqrt-nobrace", re.sub(r"\\sqrt\{(\d+)\}", r"\\sqrt\1", s)),
                    ("sqrt-space", re.sub(r"\\sqrt\{(\d+)\}", r"\\sqrt \1", s)),
                    ("sqrt-pow", re.sub(r"\\sqrt\{(\d+)\}", r"\1^{1/2}", s)),
                    ("sqrt-unicode", re.sub(r"\\sqrt\{(\d+)\}", "\u221a\\1", s)),
                    ("sqrt-python", re.sub(r"\\sqrt\{(\d+)\}", r"sqrt(\1)", s))]
        if re.search(r"(?<![a-z\\])i(?![a-z])", s) and not re.search(r"\\[a-z]*i", s):
            out += [("complex-j", s.replace("i", "j")), ("complex-reordered", join_terms(split_terms(s)[::-1]))]
        if "\\pi" in s:
            out += [("pi-unicode", s.replace("\\pi", "\u03c0")), ("pi-star", re.sub(r"(\d) ?\\pi", r"\1*\\pi", s)),
                    ("pi-front", re.sub(r"^(\d+) ?\\pi$", r"\\pi \1", s)), ("pi-word", s.replace("\\pi", "pi"))]
        if v is not None:
            out += [("value-dec4", fmt_sig(v, 4)), ("value-dec6", fmt_sig(v, 6)), ("value-dec10", repr(v)),
                    ("value-dec2", fmt_fixed(v, 2))]
        if (s.startswith("(") or s.startswith("[")) and "," in s:
            inner = s[1:-1]
            parts = [p.strip() for p in top_level_split(inner)]
            out += [("tuple-space", s[0] + ", ".join(parts) + s[-1]), ("tuple-tight", s[0] + ",".join(parts) + s[-1]),
                    ("tuple-left-right", "\\left" + s[0] + inner + "\\right" + s[-1]),
                    ("tuple-brackets", "[" + inner + "]"), ("tuple-parens", "(" + inner + ")"),
                    ("tuple-bare", ", ".join(parts)), ("tuple-eq", "(x, y) = " + s if len(parts) == 2 else s)]
            if s.endswith(")") and s.startswith("(") and len(parts) == 2:
                out.append(("interval-half", "(" + inner + "]"))
        elif "," in s and not s.startswith("\\begin"):
            parts = [p.strip() for p in top_level_split(s)]
            if len(parts) > 1:
                rparts = parts[:]
                rng.shuffle(rparts)
                out += [("list-space", ", ".join(parts)), ("list-tight", ",".join(parts)),
                        ("list-reordered", ", ".join(rparts)), ("list-set", "\\{" + ", ".join(parts) + "\\}"),
                        ("list-and", ", ".join(parts[:-1]) + " \\text{ and } " + parts[-1]),
                        ("list-and-plain", ", ".join(parts[:-1]) + " and " + parts[-1]),
                        ("list-paren", "(" + ", ".join(parts) + ")"), ("list-semicolon", "; ".join(parts)),
                        ("list-boxes", None), ("list-first", parts[0]), ("list-last", parts[-1]),
                        ("list-eqs", ", ".join("x_%d = %s" % (i + 1, p) for i, p in enumerate(parts))),
                        ("list-dollars", "$, $".join(parts)), ("list-or", " \\text{ or } ".join(parts))]
        if "pmatrix" in s or "bmatrix" in s:
            out += [("matrix-b", s.replace("pmatrix", "bmatrix")), ("matrix-p", s.replace("bmatrix", "pmatrix")),
                    ("matrix-spaces", s.replace("&", " & ").replace("\\\\", " \\\\ ")),
                    ("matrix-array", s.replace("\\begin{pmatrix}", "\\left(\\begin{array}{cc}").replace("\\end{pmatrix}", "\\end{array}\\right)"))]
        if "=" not in s and re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", s)):
            out += [("expr-eq-y", "y = " + s), ("expr-eq-f", "f(x) = " + s)]
            terms = split_terms(s)
            if len(terms) > 1:
                rng.shuffle(terms)
                out.append(("expr-reordered", join_terms(terms)))
            m = re.search(r"([a-z])\(", s)
            if m:
                out.append(("letter-paren-cdot", s.replace(m.group(0), m.group(1) + " \\cdot (", 1)))
        if "\\text{" in s:
            out += [("text-bare", re.sub(r"\\text\{(.*?)\}", r"\1", s)), ("textbf", s.replace("\\text{", "\\textbf{")),
                    ("text-lower", s.lower()), ("text-mathrm", s.replace("\\text{", "\\mathrm{"))]
        if "\\in" in s or "\\cup" in s or "infty" in s:
            out += [("interval-x", "x \\in " + s), ("interval-union-space", s.replace("\\cup", " \\cup ")),
                    ("interval-U", s.replace("\\cup", "U")), ("interval-inf", s.replace("\\infty", "\\inf"))]
        if "^\\circ" in s or "^{\\circ}" in s:
            out.append(("degree-drop", s.replace("^\\circ", "").replace("^{\\circ}", "")))
        if "\\le" in s or "\\ge" in s or "<" in s or ">" in s:
            out += [("ineq-leq", s.replace("\\le ", "\\leq ")), ("ineq-flip", flip_ineq(s))]
    return [(k, a) for k, a in out if a is not None or k == "list-boxes"]


def split_terms(s):
    """Top-level + and - terms of an expression, each with its sign."""
    terms, depth, cur = [], 0, ""
    for i, c in enumerate(s):
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c in "+-" and depth == 0 and cur.strip() and not cur.rstrip().endswith(("^", "_", "\\cdot", "\\times", "e")):
            terms.append(cur)
            cur = c
        else:
            cur += c
    terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


def join_terms(terms):
    out = ""
    for t in terms:
        if not out:
            out = t.lstrip("+")
        elif t.startswith("-") or t.startswith("+"):
            out += " " + t[0] + " " + t[1:].strip()
        else:
            out += " + " + t
    return out


def flip_ineq(s):
    pairs = {"<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le"}
    return re.sub(r"\\le|\\ge|<|>", lambda m: pairs[m.group(0)], s)


def bump_digit(s, rng):
    """s with one digit changed."""
    ds = [i for i, c in enumerate(s) if c.isdigit()]
    if not ds:
        return None
    i = rng.choice(ds)
    return s[:i] + str((int(s[i]) + rng.choice([1, 2, 9])) % 10) + s[i + 1:]


def wrongs(g, ds, rng, others):
    """Wrong answers for gold text g: what a model gets wrong, and what a lenient grader might let through."""
    s = g.strip().strip("$").strip()
    v = num_value(s)
    out = [("other-gold", rng.choice(others)), ("digit", bump_digit(s, rng))]
    if INT.fullmatch(s):
        n = int(s)
        out += [("off-by-one", str(n + 1)), ("off-by-minus-one", str(n - 1)), ("sign", str(-n)),
                ("times10", str(n * 10)), ("times100", str(n * 100)), ("div100", repr(n / 100)),
                ("near-1e-3", fmt_sig(n * 1.001, 8)), ("near-5e-5", fmt_sig(n * 1.00005, 10)),
                ("free-var", s + " + x"), ("free-var-mul", s + "x"), ("free-var-n", s + " + n"),
                ("free-var-large", str(n * 10 ** rng.choice([5, 9, 20])) + " + x"), ("half", str(n) + "/2"),
                ("unit-off", str(n + 1) + rng.choice(UNITS)), ("squared", s + "^2"), ("with-pi", s + "\\pi"),
                ("frac-of", "\\frac{" + s + "}{2}"), ("neg-unicode", "\u2212" + s if n > 0 else s),
                ("double", str(2 * n)), ("sqrt-of", "\\sqrt{" + s + "}"), ("plus-pi", s + "+\\pi"),
                ("free-var-times-large", s + "000000x"), ("list-with-gold", s + ", " + str(n + 2)),
                ("sci-wrong", fmt_sig(n * 1.02, 3) + "\\times 10^{0}")]
        if abs(n) >= 1000:
            out += [("sep-wrong", with_sep(str(n + 10), ",")), ("sep-thin-wrong", with_sep(str(n - 1), "\\,"))]
    elif v is not None:
        out += [("sign", "-" + s if not s.startswith("-") else s[1:]), ("near-1e-3", fmt_sig(v * 1.001, 8)),
                ("near-5e-5", fmt_sig(v * 1.00005, 10)), ("rounded-2", fmt_sig(v, 2)), ("rounded-3", fmt_sig(v, 3)),
                ("free-var", s + " + x"), ("free-var-large", "3.83e35 + x" if rng.random() < 0.3 else fmt_sig(v * 1e5, 6) + " + x"),
                ("times10", fmt_sig(v * 10, 8)), ("inverse", fmt_sig(1 / v, 8) if v else "0"), ("plus-one", fmt_sig(v + 1, 8))]
        m = FRAC.fullmatch(s)
        if m:
            sign, a, b = m.groups()
            out += [("frac-num+1", sign + "\\frac{" + str(int(a) + 1) + "}{" + b + "}"),
                    ("frac-den+1", sign + "\\frac{" + a + "}{" + str(int(b) + 1) + "}"),
                    ("frac-inverted", sign + "\\frac{" + b + "}{" + a + "}")]
        if "\\pi" in s:
            out += [("pi-dropped", s.replace("\\pi", "").strip() or "1"), ("pi-dec-approx", fmt_sig(v, 6)),
                    ("pi-unicode-approx", fmt_sig(v, 4))]
        if "\\sqrt" in s:
            out += [("sqrt-dropped", re.sub(r"\\sqrt\{(.*?)\}", r"\1", s))]
        m = SCI.fullmatch(s)
        if m:
            mant, e = m.groups()
            out += [("sci-exp+1", mant + "e" + str(int(e) + 1)), ("sci-times-exp+1", mant + " \\times 10^{" + str(int(e) + 1) + "}"),
                    ("sci-mant", fmt_sig(float(mant) * 1.1, 3) + "e" + e), ("sci-free-var", s + " + x")]
    else:
        out += [("sign", "-" + s if not s.startswith("-") else s[1:]), ("free-var", s + " + x"),
                ("extra-term", s + " + 1"), ("squared", "(" + s + ")^2"), ("half", "\\frac{" + s + "}{2}"),
                ("letter-swap", re.sub(r"(?<![\\a-zA-Z])([a-z])(?![a-zA-Z])", lambda m: "q" if m.group(1) != "q" else "r", s, count=1))]
        if (s.startswith("(") or s.startswith("[")) and "," in s:
            parts = [p.strip() for p in top_level_split(s[1:-1])]
            out += [("tuple-swapped", s[0] + ", ".join(parts[::-1]) + s[-1]),
                    ("tuple-missing", s[0] + ", ".join(parts[:-1]) + s[-1]),
                    ("tuple-extra", s[0] + ", ".join(parts + ["0"]) + s[-1]),
                    ("interval-open", "(" + s[1:-1] + ")"), ("interval-closed", "[" + s[1:-1] + "]")]
        elif "," in s:
            parts = [p.strip() for p in top_level_split(s)]
            out += [("list-missing", ", ".join(parts[:-1])), ("list-first-wrong", bump_digit(parts[0], rng) or "0")]
        if "=" in s:
            l, _, r = s.partition("=")
            out += [("eq-swapped", r + "=" + l), ("eq-rhs", r), ("eq-bumped", l + "=" + (bump_digit(r, rng) or r + "+1"))]
        if "\\le" in s or "\\ge" in s or "<" in s or ">" in s:
            out.append(("ineq-flip", flip_ineq(s)))
        m = re.search(r"([a-z])\(", s)
        if m:
            out.append(("letter-paren-drop", s.replace(m.group(0), m.group(1) + "^2(", 1)))
    return [(k, a) for k, a in out if a]


def quirks(g, ds, rng):
    """Answers aimed at the real grader's known behaviour (shared/grader-oracle/README.md)."""
    s = g.strip().strip("$").strip()
    v = num_value(s)
    out = [("q-list-prefix", s + ", " + rng.choice(["-3", "2", "7", "-1", "12"])),
           ("q-list-prefix-space", s + ",\\ " + rng.choice(["4", "-5"])),
           ("q-trailing-prose", s + rng.choice([".Next, we", ". Next, we check", ".\\text{ So we are done}", ",\\quad\\text{done}"])),
           ("q-displaystyle", "\\displaystyle " + s), ("q-boxed-inside", "\\boxed{" + s + "}"),
           ("q-letter-paren", "n(" + s + ")"), ("q-leading-op", "= " + s), ("q-approx", "\\approx " + s)]
    if v is not None:
        out += [("q-thinspace", with_sep(str(int(v)), "\\,") if v == int(v) and abs(v) >= 1000 else s),
                ("q-sci-e", fmt_sig(v, 3) + "e" + str(rng.choice([0, 2, 33]))),
                ("q-pi-approx", fmt_sig(v, 6)), ("q-percent-of", fmt_sig(v / 100, 6))]
    if "\\pi" in s and v is not None:
        out += [("q-pi-num", fmt_sig(v, 6)), ("q-pi-unicode", s.replace("\\pi", "\u03c0")), ("q-pi-float", repr(v))]
    if SCI.fullmatch(s):
        m, e = SCI.fullmatch(s).groups()
        out += [("q-sci-times", m + " \\times 10^{" + e + "}"), ("q-sci-same", s)]
    if INT.fullmatch(s) and s != "0":
        out += [("q-boxed0", "\\boxed{0}"), ("q-gold-times-e", s + "e1")]
    if s == "0":
        out += [("q-boxed0", "\\boxed{0}"), ("q-boxed0-minerva", "\\boxed{0}")]
    return out


# ---------------------------------------------------------------------------------------------------- completions

FILLER = ["Let me think step by step.", "First, we simplify the expression.", "We need to find the value asked for.",
          "Substituting the known values gives the result.", "Checking the arithmetic once more confirms it.",
          "So we have $x = 3$ and $y = 4$ from the system.", "This gives $2 + 3 = 5$ cases in total.",
          "Therefore the total is the sum of the parts.", "Now, consider the case $n = 2$.",
          "Multiplying both sides by $4$ we obtain the equation.", "The area is $\\frac{1}{2}bh$."]


def reasoning(why, rng, long=False):
    base = why.strip() if why and rng.random() < 0.8 else " ".join(rng.sample(FILLER, rng.randint(2, 5)))
    if len(base) > 1200 and not long:
        base = base[:rng.randint(300, 1200)]
    if long:
        chunk = base + "\n\n" + " ".join(rng.sample(FILLER, 4))
        base = "\n\n".join([chunk] * max(2, 16000 // max(1, len(chunk))))[: rng.randint(8000, 14000)]
    return base


# Completion templates: @R@ is the reasoning, @A@ the answer, @B@ a second (other) answer.
TEMPLATES = {
    "boxed": "@R@\n\nTherefore, the final answer is $\\boxed{@A@}$.",
    "boxed-bare": "\\boxed{@A@}",
    "boxed-display": "@R@\n\n\\[\n\\boxed{@A@}\n\\]",
    "boxed-inline": "@R@ So the answer is \\(\\boxed{@A@}\\).",
    "answer-is": "@R@\n\nThe answer is @A@.",
    "answer-is-dollar": "@R@\n\nThe answer is $@A@$.",
    "answer-is-prose": "@R@\n\nThe answer is @A@. Next question: how many?",
    "final-answer-is": "@R@\n\nSo the final answer is @A@",
    "minerva": "@R@\n\nFinal Answer: The final answer is $@A@$. I hope it is correct.",
    "minerva-box": "@R@\n\nFinal Answer: The final answer is $\\boxed{@A@}$. I hope it is correct.",
    "no-marker": "@R@\n\nSo we get @A@ in the end.",
    "nested": "@R@\n\n$\\boxed{\\boxed{@A@}}$",
    "unbalanced": "@R@\n\n$\\boxed{@A@$",
    "two-boxes-wrong-last": "@R@\n\nFirst attempt: $\\boxed{@A@}$. Wait, that is wrong. Correcting: $\\boxed{@B@}$.",
    "two-boxes-right-last": "@R@\n\nFirst attempt: $\\boxed{@B@}$. Wait, let me recheck. The answer is $\\boxed{@A@}$.",
    "prose-after": "@R@\n\nThe answer is $\\boxed{@A@}$. To double-check, we verify that 17 works too, which it does.",
    "stop-im-end": "@R@\n\n$\\boxed{@A@}$<|im_end|>\n<|im_start|>user\nNext problem: 42",
    "stop-user-before": "@R@\n\nAs the user asked, the result is $\\boxed{@A@}$.",
    "stop-assistant-after": "@R@\n\n$\\boxed{@A@}$\nassistant\nI think the answer is \\boxed{0}",
    "stop-endoftext": "@R@ The answer is \\boxed{@A@}<|endoftext|>\\boxed{99}",
    "boxed-nobrace": "@R@\n\nHence $\\boxed @A@$.",
    "boxed-empty-after": "@R@\n\nThe answer is \\boxed{@A@} and we put it in \\boxed",
    "zh": "@R@\n\n答案是 @A@\n\n完成",
    "fbox": "@R@\n\n\\fbox{@A@}",
    "long": "@R@\n\nThus the answer is $\\boxed{@A@}$.",
    "boxed-then-newlines": "@R@\n\n\\boxed{\n@A@\n}\n\n",
    "colon": "@R@\n\nThe answer is: @A@",
    "markdown-final": "@R@\n\n**Final Answer**\n\\[\n\\boxed{@A@}\n\\]",
    "llama-final": "@R@\n\nThe final answer is: $\\boxed{@A@}$",
    "double-dollar": "@R@\n\n$$\\boxed{@A@}$$",
    "boxed-text-after": "@R@\n\n\\boxed{@A@} \\text{ is the answer}",
}


def wrap(ans, style, why, rng, ans2):
    r = reasoning(why, rng, long=(style == "long"))
    if style == "ki":  # Cyrillic step markers, which the extractor deletes
        return r.replace(". ", ". ки ") + "\n\nки The answer is $\\boxed{" + ans + "}$ ки"
    return TEMPLATES[style].replace("@R@", r).replace("@A@", ans).replace("@B@", ans2)


STYLES = [("boxed", 40), ("boxed-bare", 6), ("boxed-display", 6), ("boxed-inline", 4), ("answer-is", 4),
          ("answer-is-dollar", 3), ("answer-is-prose", 2), ("final-answer-is", 2), ("minerva", 5), ("minerva-box", 2),
          ("no-marker", 3), ("nested", 2), ("unbalanced", 2), ("two-boxes-wrong-last", 2),
          ("two-boxes-right-last", 2), ("prose-after", 3), ("stop-im-end", 2), ("stop-user-before", 1),
          ("stop-assistant-after", 1), ("stop-endoftext", 1), ("boxed-nobrace", 1), ("boxed-empty-after", 1),
          ("zh", 1), ("ki", 1), ("fbox", 1), ("long", 1), ("boxed-then-newlines", 2), ("colon", 1),
          ("markdown-final", 4), ("llama-final", 4), ("double-dollar", 2), ("boxed-text-after", 1)]


def pick(weighted, rng):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def rows_for(name, items, quota, rng):
    golds = [g for g, _ in items]
    # golds other than plain integers have more ways to be written: they are drawn more often
    weights = [1.0 if INT.fullmatch(g.strip().strip("$").strip()) else 3.0 for g in golds]
    order = list(range(len(items)))
    out = []
    while len(out) < quota:
        rng.shuffle(order)
        for i in rng.choices(order, weights=[weights[j] for j in order], k=len(order)):
            if len(out) >= quota:
                break
            gold, why = items[i]
            family = pick([("equivalent", 45), ("wrong", 30), ("quirk", 15), ("messy", 10)], rng)
            if family == "messy" and rng.random() < 0.15:
                kind, comp = rng.choice([("empty", ""), ("whitespace", "  \n "), ("error", "error"),
                                         ("only-stop", "<|im_end|>The answer is \\boxed{" + gold + "}"),
                                         ("no-number", "I could not solve this problem."),
                                         ("reasoning-only", reasoning(why, rng))])
                if comp.strip() in ("", "error") or kind == "only-stop":
                    if gold.strip().startswith("\\text{"):
                        # no prediction against a gold that normalizes to "" (math500's \text{east}) makes the
                        # real pipeline raise instead of grading: not a case to label
                        kind, comp = "no-number", "I could not solve this problem."
                out.append({"dataset": name, "idx": i, "completion": comp, "gold": gold, "family": family,
                            "kind": kind, "style": "raw"})
                continue
            if family == "equivalent" or family == "messy":
                kind, ans = rng.choice(equivalents(gold, name, rng))
            elif family == "wrong":
                kind, ans = rng.choice(wrongs(gold, name, rng, golds))
            else:
                kind, ans = rng.choice(quirks(gold, name, rng))
            style = pick(STYLES, rng) if family != "messy" else pick([(s, 1) for s, _ in STYLES[1:]], rng)
            if kind == "q-boxed0-minerva":
                style = "minerva"
            ans2 = rng.choice(golds)
            if ans is None:  # list-boxes: each element in its own box
                parts = [p.strip() for p in top_level_split(gold.strip().strip("$"))]
                comp = reasoning(why, rng) + "\n\nThe answers are " + ", ".join("$\\boxed{" + p + "}$" for p in parts) + "."
                style = "boxes"
            else:
                comp = wrap(ans, style, why, rng, ans2)
            out.append({"dataset": name, "idx": i, "completion": comp, "gold": gold, "family": family,
                        "kind": kind, "style": style})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets"))
    ap.add_argument("--seed", default="19,20", help="one seed, or several separated by commas (one corpus each)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every data set's quota")
    args = ap.parse_args()
    items = load(args.datasets)
    for seed in (int(x) for x in args.seed.split(",")):
        for name, quota in QUOTAS.items():
            rng = random.Random("%d/%s" % (seed, name))
            for row in rows_for(name, items[name], int(quota * args.scale), rng):
                print(json.dumps(dict(row, seed=seed), ensure_ascii=False))


if __name__ == "__main__":
    main()
