#!/usr/bin/env python3
"""Renders chat templates with Hugging Face transformers, as the reference for dev.rast.text.chat.ChatTemplate.

Run from the repository root with the oracle venv:

    .oracle/bin/python scripts/oracle/make_chat_reference.py ../shared/tokenizers text/src/test/resources/chat

It writes into the output folder:
  qwen3/tokenizer_config.json, llama3.1/tokenizer_config.json   copies of the shared files (see SOURCES.md there)
  qwen2.5/tokenizer_config.json   Qwen2.5-Instruct's chat template (plain ChatML, default system prompt
                                  "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.") with its
                                  special tokens; Qwen2.5 shares the Qwen3 vocabulary, so it renders with that tokenizer
  reference.json   one case per (template, conversation, add_generation_prompt): the messages, the extra template
                   variables, and what tokenizer.apply_chat_template(..., tokenize=False) returned, or the message of
                   the jinja2 TemplateError it raised.

Besides the three model templates there are small "feature" templates that exercise the Jinja2 semantics HF relies
on one at a time (whitespace control, Python string methods, slicing, namespace, loop.previtem, tojson, tests,
raise_exception, ...). They render with the Llama-3.1 tokenizer so bos_token and eos_token are set.
"""
import json
import os
import shutil
import sys

import jinja2
import transformers
from transformers import AutoTokenizer

SHARED = sys.argv[1] if len(sys.argv) > 1 else "../shared/tokenizers"
OUT = sys.argv[2] if len(sys.argv) > 2 else "text/src/test/resources/chat"

# Qwen2.5-Instruct's chat_template as published in its tokenizer_config.json (identical across the 0.5B-72B
# Instruct releases); checked against two public copies of that file.
QWEN25_TEMPLATE = (
    "{%- if tools %}\n"
    "    {{- '<|im_start|>system\\n' }}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n"
    "    {%- else %}\n"
    "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n"
    "    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n"
    "        {{- \"\\n\" }}\n"
    "        {{- tool | tojson }}\n"
    "    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": "
    "<args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n"
    "{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    "<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n"
    "        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n"
    "            {{- '\\n' + message.content }}\n"
    "        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n"
    "            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n"
    "            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n"
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n"
    "        {%- endfor %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n"
    "        {%- endif %}\n"
    "        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n"
    "        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

TOOLS = [{"type": "function", "function": {
    "name": "get_weather",
    "description": "Current weather in a city, e.g. \"Zürich\" — in °C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}]

# Conversations for the model templates: (name, messages, extra template variables, also with add_generation_prompt)
CONVERSATIONS = [
    ("single user", [{"role": "user", "content": "Hello!"}], {}),
    ("system and user", [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": "What is 2+2?"}], {}),
    ("multi-turn", [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}], {}),
    ("ends with assistant", [{"role": "user", "content": "Say yes."},
                             {"role": "assistant", "content": "Yes."}], {}),
    ("unicode and specials", [{"role": "user", "content":
        "héllo 世界 مرحبا नमस्ते 👩‍👩‍👧 e\u0301 \u00a0nbsp\u3000ideo\ttab\r\nCRLF {{ not a tag }} {% if %} "
        "<|im_end|> <|eot_id|> \\boxed{x} 'single' \"double\" \\\\n"}], {}),
    ("empty content", [{"role": "system", "content": ""}, {"role": "user", "content": ""}], {}),
    ("surrounding whitespace", [{"role": "user", "content": "  \n padded question \n\n "},
                                {"role": "assistant", "content": "\n answer \n"},
                                {"role": "user", "content": "\tnext\t"}], {}),
    ("think in last assistant", [{"role": "user", "content": "2+2?"},
                                 {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"}], {}),
    ("think in earlier assistant", [{"role": "user", "content": "2+2?"},
                                    {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
                                    {"role": "user", "content": "and 3+3?"}], {}),
    ("think without newlines", [{"role": "user", "content": "q"},
                                {"role": "assistant", "content": "<think>r1</think>a1"},
                                {"role": "user", "content": "<tool_response>ok</tool_response>"},
                                {"role": "assistant", "content": "<think>r2</think>a2"}], {}),
    ("system not first", [{"role": "user", "content": "first"},
                          {"role": "system", "content": "late system"},
                          {"role": "user", "content": "second"}], {}),
    ("tool call and result", [{"role": "user", "content": "Weather in Zürich?"},
                              {"role": "assistant", "content": "",
                               "tool_calls": [{"type": "function", "function": {
                                   "name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}}]},
                              {"role": "tool", "content": "{\"temp\": 21}"},
                              {"role": "tool", "content": "sunny"},
                              {"role": "assistant", "content": "It is 21 °C and sunny."}], {}),
    ("tools offered", [{"role": "system", "content": "Use tools."},
                       {"role": "user", "content": "Weather?"}], {"tools": TOOLS}),
    ("unknown role", [{"role": "robot", "content": "beep"}, {"role": "user", "content": "hi"}], {}),
    ("thinking disabled", [{"role": "user", "content": "Quick: 1+1?"}], {"enable_thinking": False}),
    ("thinking enabled", [{"role": "user", "content": "Quick: 1+1?"}], {"enable_thinking": True}),
]

FEATURE_MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello there!"},
    {"role": "assistant", "content": "  Hi! How can I help?  "},
    {"role": "user", "content": "What is 2+2?"},
]

# (name, template, messages or None for FEATURE_MESSAGES, extra variables)
FEATURES = [
    ("whitespace: trim and lstrip blocks",
     "{% for m in messages %}\n  {% if m.role == 'user' %}\n    U: {{ m.content }}\n  {% else %}\n"
     "    A: {{ m.content }}\n  {% endif %}\n{% endfor %}\n{%- if add_generation_prompt %}\n   [gen]\n{%+ endif %}\n",
     None, {}),
    ("whitespace: minus and plus markers, comments",
     "start  \n  {{- 'a' -}}  \n  b\n  {#- a comment -#}\n  c {# inline #} d\n    {# own line #}\n"
     "e {%+ if true +%}\nf{% endif %}\n  {%- if true -%}  g  {%- endif -%}  \nh\t{{ 'i' }}\t\n  {% if true %}j{% endif %}\n\n",
     None, {}),
    ("whitespace: CRLF template and trailing newlines",
     "line1\r\n{% if true %}\r\nline2\r\n{% endif %}\r\nline3\r\n\r\n", None, {}),
    ("whitespace: line starts, unicode spaces, output tags",
     "  {% if true %}A{% endif %}\nb {% if true %}B{% endif %}  \n\t{# c #}\n  {{ 'V' }}\n"
     "\u3000{%- if true -%}\u3000W\u3000{%- endif -%}\u2028X\n   {% if true +%}\nY{% endif %}\n"
     "{% for i in range(2) %}\n  {{ i }}\n{% endfor %}\n{%- for i in range(2) -%}\n  {{ i }}\n{%- endfor %}",
     None, {}),
    ("whitespace: brace before a tag",
     "set{ {{- 'x' -}} } {{ '{' }}{{ '{' }}", None, {}),
    ("string methods",
     "{% set c = messages[1].content %}{{ c.startswith('Hello') }} {{ c.startswith('x') }} {{ c.endswith('!') }} "
     "{{ c.endswith(('?', '!')) }} [{{ '  x y  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '\\n\\nz\\n'.lstrip('\\n') }}]"
     " [{{ 'z \\n '.rstrip() }}] {{ 'a,b,,c,'.split(',') }} {{ ' a  b\\tc '.split() }} {{ 'a b c'.split(' ', 1) }}"
     " {{ 'a</think>b</think>'.split('</think>')[-1] }}|{{ 'a</think>b'.split('</think>')[0] }}"
     " {{ c.upper() }} {{ c.lower() }} {{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '+', 1) }}"
     " {{ c.find('there') }} {{ c.find('zzz') }} {{ c.count('e') }} {{ ', '.join(['x', 'y']) }} {{ 'hello world'.title() }}"
     " {{ 'hELLO'.capitalize() }} {{ 'a.b.c'.rsplit('.', 1) }}",
     None, {}),
    ("slices",
     "{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:3] }} {{ 'abcdef'[:2] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[::2] }}"
     " {{ 'abcdef'[-1] }} {{ 'abcdef'[10:] }}| {% for m in messages[::-1] %}{{ m.role }} {% endfor %}"
     "{{ messages[1:]|length }} {{ messages[:-1][-1].role }} {{ (messages|map(attribute='role')|list)[-1] }}"
     " {{ 'x😀y'[::-1] }} {{ messages[1].content[0:5] }} {{ [1, 2, 3, 4][1::2] }}",
     None, {}),
    ("namespace and loop variables",
     "{% set ns = namespace(count=0, last=messages|length - 1, seen='') %}{% for m in messages %}"
     "{% set ns.count = ns.count + 1 %}{% set ns.seen = ns.seen + m.role[0] %}"
     "{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.length }}"
     "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}"
     "{% if loop.previtem is defined %}<{{ loop.previtem.role }}{% endif %}"
     "{% if loop.nextitem is defined %}>{{ loop.nextitem.role }}{% endif %} {% endfor %}"
     "{{ ns.count }} {{ ns.last }} {{ ns.seen }}",
     None, {}),
    ("tests and printed values",
     "{% for m in messages[:2] %}{{ m is mapping }} {{ m.content is string }} {{ m.missing is defined }}"
     " {{ m.content is not none }} {{ m is string }} {{ messages is sequence }} {% endfor %}"
     "{{ true }} {{ false }} {{ 1.5 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ 2 ** 10 }} {{ 7 % 3 }} {{ -3 }}"
     " {{ [1, 'a', true] }} {{ {'k': 'v'} }} {{ 1 is number }} {{ 'x' is string }} {{ false is false }}"
     " {{ add_generation_prompt is true }} {{ bos_token }} {{ eos_token }}",
     None, {}),
    ("tojson",
     "{{ messages[:2]|tojson }}\n{{ {'a': 'é\"\\n\\t\\\\', 'b': [1, 2.5, true, none], 'c': {}} | tojson }}\n"
     "{{ {'x': 1, 'y': [1, 2]}|tojson(indent=2) }}\n{{ 'ü'|tojson }} {{ 3|tojson }}",
     None, {}),
    ("dict items and iteration",
     "{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }};{% endfor %} {% for k in messages[0] %}{{ k }},"
     "{% endfor %} {{ messages[0].keys()|list }} {{ messages[0].get('role') }} {{ messages[0].get('nope', 'dflt') }}",
     None, {}),
    ("raise_exception on alternation",
     "{% if messages[0].role == 'system' %}{% set rest = messages[1:] %}{% else %}{% set rest = messages %}{% endif %}"
     "{% for m in rest %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
     "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
     "{{ bos_token + '[' + m.role + '] ' + m.content.strip() + ' ' }}{% endfor %}{{ eos_token }}",
     [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], {}),
    ("raise_exception not reached",
     "{% if messages|length > 9 %}{{ raise_exception('too long') }}{% endif %}{% for m in messages %}"
     "{{ m.role }}:{{ m.content }}\n{% endfor %}",
     None, {}),
    ("raise_exception on bad role",
     "{% for m in messages %}{% if m.role not in ['system', 'user', 'assistant'] %}"
     "{{ raise_exception('Unexpected role: ' + m.role) }}{% endif %}{{ m.content }}{% endfor %}",
     [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}], {}),
    ("string literal escapes",
     "{{ 'tab\\there' }}|{{ \"dq \\\"x\\\" \\u00e9 \\x41 \\N{BULLET} \\U0001F600\" }}|{{ 'back\\\\slash \\d \\q' }}"
     "|{{ 'it\\'s' }}|{{ '{{ not a tag }}' }}|{{ 'a' ~ \"b\" ~ 1 }}",
     None, {}),
    ("filters",
     "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(' | ') }}"
     " {{ (messages|first).role }} {{ (messages|last).role }} [{{ '  ab  '|trim }}] [{{ ' \\u3000ab\\u00a0\\n'|trim }}]"
     " {{ 'héllo'|length }} {{ '😀'|length }} {{ messages|length }} {{ missing|default('dflt') }} {{ 'ab'|upper }}"
     " {{ [3, 1, 2]|sort|list }} {{ 'aXa'|replace('a', 'b') }} {{ messages|rejectattr('role', 'equalto', 'user')|list|length }}"
     " [{{ 'xxabxx'|trim('x') }}] {{ 3|string ~ 'x' }} {{ 'ab'|list }}",
     None, {}),
    ("macro and ternary and loop controls",
     "{% macro tag(m) %}<{{ m.role }}>{% endmacro %}{% for m in messages %}{% if loop.index0 == 1 %}{% continue %}"
     "{% endif %}{{ tag(m) }}{{ m.role ~ ':' ~ ('long' if m.content|length > 10 else 'short') }}"
     "{% if 'user' not in m.role %}!{% endif %}{% if loop.index0 == 2 %}{% break %}{% endif %} {% endfor %}",
     None, {}),
    ("raw block",
     "a {% raw %}{{ literally }} {% if %}{% endraw %} b\n  {%- raw -%}  \n  x  \n  {%- endraw %}\nc",
     None, {}),
    ("strftime_now shape",
     "{{ strftime_now('%Y')|length }} {{ strftime_now('%d %b %Y')|length }} {{ strftime_now('%Y-%m-%d')[4] }}",
     None, {}),
    ("enable_thinking undefined unless given",
     "{% if enable_thinking is defined %}defined:{{ enable_thinking }}{% else %}undefined{% endif %}"
     " {% if enable_thinking is defined and enable_thinking is false %}off{% endif %}",
     None, {}),
    ("enable_thinking given",
     "{% if enable_thinking is defined %}defined:{{ enable_thinking }}{% else %}undefined{% endif %}"
     " {% if enable_thinking is defined and enable_thinking is false %}off{% endif %}",
     None, {"enable_thinking": False}),
    ("generation markers",
     "{% for m in messages %}{% if m.role == 'assistant' %}\n  {% generation %}\n  [{{ m.content }}]\n"
     "  {% endgeneration %}\n{% else %}({{ m.content }}){% endif %}{% endfor %}",
     None, {}),
]


def render(tok, messages, add_gen, extra, template=None):
    kwargs = dict(extra)
    tools = kwargs.pop("tools", None)
    try:
        out = tok.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=False,
                                      add_generation_prompt=add_gen, **kwargs)
        return {"expected": out}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in ("qwen3", "llama3.1"):
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        shutil.copyfile(os.path.join(SHARED, name, "tokenizer_config.json"),
                        os.path.join(OUT, name, "tokenizer_config.json"))
    qwen3 = AutoTokenizer.from_pretrained(os.path.join(SHARED, "qwen3"))
    llama = AutoTokenizer.from_pretrained(os.path.join(SHARED, "llama3.1"))

    os.makedirs(os.path.join(OUT, "qwen2.5"), exist_ok=True)
    with open(os.path.join(OUT, "qwen2.5", "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": False, "bos_token": None, "chat_template": QWEN25_TEMPLATE,
                   "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
                   "tokenizer_class": "Qwen2Tokenizer"}, f, ensure_ascii=False, indent=2)
        f.write("\n")

    cases = []
    for tname, tok, tpl in (("qwen3", qwen3, None), ("llama3.1", llama, None), ("qwen2.5", qwen3, QWEN25_TEMPLATE)):
        for cname, messages, extra in CONVERSATIONS:
            for add_gen in (False, True):
                case = {"template": tname, "name": cname, "messages": messages, "extra": extra,
                        "add_generation_prompt": add_gen}
                case.update(render(tok, messages, add_gen, extra, tpl))
                cases.append(case)
    for fname, tpl, messages, extra in FEATURES:
        for add_gen in (False, True):
            case = {"template": "feature", "name": fname, "source": tpl, "messages": messages or FEATURE_MESSAGES,
                    "extra": extra, "add_generation_prompt": add_gen}
            case.update(render(llama, messages or FEATURE_MESSAGES, add_gen, extra, tpl))
            cases.append(case)

    ref = {"made_by": "scripts/oracle/make_chat_reference.py",
           "transformers": transformers.__version__, "jinja2": jinja2.__version__,
           "feature_special_tokens": {"bos_token": llama.bos_token, "eos_token": llama.eos_token},
           "cases": cases}
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"{len(cases)} cases ({errors} raise) written to {OUT}/reference.json")


if __name__ == "__main__":
    main()
