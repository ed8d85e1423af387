#!/usr/bin/env python3
"""Drives a running `rast serve` with the official `openai` Python client, as a user of the OpenAI API would.

Not used by tests or CI (nothing there needs Python); it checks that our server speaks the protocol the official
client expects: model listing, completions and chat, whole and streamed, `n`, seeds, stop strings, usage, logprobs
with alternatives (whole and streamed), several prompts in one request, and the RAST extension through `extra_body`.

    python3 -m venv /tmp/oai && /tmp/oai/bin/pip install openai
    bin/rast synth --arch tiny --out /tmp/M; bin/rast synth --arch tiny --seed 1 --out /tmp/E; bin/rast synth --arch tiny --seed 2 --out /tmp/B
    bin/rast serve --model /tmp/M --expert /tmp/E --expert-base /tmp/B --name math --served-model-name tiny --port 18080 &
    /tmp/oai/bin/python scripts/serve-check.py --base-url http://127.0.0.1:18080/v1 --model tiny --pair math

Prints one line per check and exits non-zero when any fails.
"""
import argparse
import sys

from openai import OpenAI

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", required=True, help="the served base model's name (S); S+rast is RAST")
    ap.add_argument("--pair", required=True, help="a configured pair's name")
    ap.add_argument("--api-key", default="unused")
    a = ap.parse_args()
    client = OpenAI(base_url=a.base_url, api_key=a.api_key)
    S, R = a.model, a.model + "+rast"

    ids = [m.id for m in client.models.list().data]
    check("models lists S and S+rast", S in ids and R in ids, str(ids))

    common = dict(prompt="What is 7*8?", max_tokens=12, temperature=0.8, top_p=0.95, seed=7)
    whole = client.completions.create(model=S, **common)
    check("completion: one choice with text", len(whole.choices) == 1 and isinstance(whole.choices[0].text, str))
    check("completion: finish_reason", whole.choices[0].finish_reason in ("length", "stop"), str(whole.choices[0].finish_reason))
    check("completion: usage", whole.usage is not None and whole.usage.completion_tokens > 0, str(whole.usage))
    again = client.completions.create(model=S, **common)
    check("completion: same seed, same text", again.choices[0].text == whole.choices[0].text)

    streamed = client.completions.create(model=S, stream=True, stream_options={"include_usage": True}, **common)
    text, usage = "", None
    for chunk in streamed:
        if chunk.choices:
            text += chunk.choices[0].text or ""
        if chunk.usage is not None:
            usage = chunk.usage
    check("completion streamed equals whole", text == whole.choices[0].text, repr(text) + " vs " + repr(whole.choices[0].text))
    check("stream usage chunk", usage is not None and usage.completion_tokens == whole.usage.completion_tokens, str(usage))

    n3 = client.completions.create(model=S, n=3, **common)
    check("n=3 gives three choices, indexed", sorted(c.index for c in n3.choices) == [0, 1, 2])

    rast = client.completions.create(model=R, **common)
    override = client.completions.create(model=S, extra_body={"rast": {"pairs": [{"name": a.pair, "lambda": 1.0}]}}, **common)
    check("S+rast equals the body's pair at its λ", rast.choices[0].text == override.choices[0].text)
    off = client.completions.create(model=R, extra_body={"rast": {"pairs": []}}, **common)
    check("an empty pair list is the base alone", off.choices[0].text == whole.choices[0].text)

    msgs = [{"role": "user", "content": "What is 7*8?"}]
    chat = client.chat.completions.create(model=R, messages=msgs, max_tokens=12, temperature=0.8, seed=3)
    check("chat: assistant message", chat.choices[0].message.role == "assistant" and isinstance(chat.choices[0].message.content, str))
    parts = client.chat.completions.create(model=R, messages=msgs, max_tokens=12, temperature=0.8, seed=3, stream=True)
    streamed_chat = "".join((c.choices[0].delta.content or "") for c in parts if c.choices)
    check("chat streamed equals whole", streamed_chat == chat.choices[0].message.content)

    lp = client.chat.completions.create(model=R, messages=msgs, max_tokens=6, seed=3, logprobs=True, top_logprobs=2)
    content = lp.choices[0].logprobs.content
    check("chat top_logprobs: two alternatives per token, most likely first",
          len(content) > 0 and all(len(t.top_logprobs) == 2 and t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob for t in content))
    parts = client.chat.completions.create(model=R, messages=msgs, max_tokens=6, seed=3, logprobs=True, top_logprobs=2, stream=True)
    streamed_lp = [t.logprob for c in parts if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content]
    check("chat logprobs streamed equal whole", streamed_lp == [t.logprob for t in content])
    comp_lp = client.completions.create(model=S, logprobs=3, **common)
    check("completions logprobs 3: a {text: logprob} of up to 3 per token",
          all(0 < len(t) <= 3 for t in comp_lp.choices[0].logprobs.top_logprobs), str(comp_lp.choices[0].logprobs.top_logprobs))
    two = client.completions.create(model=S, prompt=["What is 7*8?", "Name a color."], n=2, max_tokens=8, seed=5)
    first = client.completions.create(model=S, prompt="Name a color.", n=2, max_tokens=8, seed=5)
    check("two prompts: four choices, prompt-major", [c.index for c in two.choices] == [0, 1, 2, 3]
          and [c.text for c in two.choices[2:]] == [c.text for c in first.choices])

    try:
        client.completions.create(model="no-such-model", prompt="x", max_tokens=2)
        check("unknown model is refused", False, "accepted")
    except Exception as e:  # the client raises its NotFound/BadRequest error with the server's error object
        check("unknown model is refused with an error object", "no-such-model" in str(e), str(e))
    try:
        client.completions.create(model=S, prompt="x", max_tokens=2, extra_body={"rast": {"pairs": [{"name": "nope"}]}})
        check("unknown pair is refused", False, "accepted")
    except Exception as e:
        check("unknown pair is refused with an error object", "nope" in str(e), str(e))

    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
