"""Writes jinja-conformance.json: template snippets and what Jinja2 renders for them.

Each case is rendered the way transformers' apply_chat_template sets Jinja2 up (an
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loopcontrols; tojson as
json.dumps(ensure_ascii=False); raise_exception; strftime_now, here pinned to 2026-01-02 03:04:05
so the output is stable). A case either renders ("expected") or fails ("error": true).

Run with jinja2 3.1.6 (the version of the tokenizer references):
    python3 gpu-runtime/src/test/python/make_jinja_conformance.py
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "kittyspark", "runtime", "tokenizer", "template",
                   "jinja-conformance.json")


class AssistantTracker(Extension):
    """transformers' {% generation %} tag, reduced to what changes the text: it renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


MSGS = [
    {"role": "system", "content": "  Be brief.\n"},
    {"role": "user", "content": "Hi \u3000there\u00a0"},
    {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!"},
    {"role": "user", "content": "{{ 7*7 }} {% raise %}"},
]

CASES = [
    # whitespace control, trim_blocks, lstrip_blocks, comments, raw
    ("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nend\n", {}),
    ("ws_lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n  y  \n", {}),
    ("ws_lstrip_not_for_prints", "  {{ 'a' }}\n  {% if true %}b{% endif %}", {}),
    ("ws_minus_both_sides", "a  \n  {%- if true -%}  \n b  {%- endif %}\n c", {}),
    ("ws_minus_on_print", "a \n {{- 'x' -}} \n b", {}),
    ("ws_plus_keeps_lstrip", "  {%+ if true %}x{% endif %}", {}),
    ("ws_plus_keeps_newline", "{% if true +%}\nx{% endif +%}\ny", {}),
    ("ws_comment", "a\n  {# note #}\nb {#- c -#} c\n{# multi\nline #}\nd", {}),
    ("ws_raw", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}\nafter", {}),
    ("ws_raw_strip", "x {%- raw -%}  kept {{ x }}  {%- endraw -%}  y", {}),
    ("ws_crlf_template", "line1\r\n{% if true %}\r\nline2\r\n{% endif %}\r\nline3\r\n", {}),
    ("ws_unicode_space_lstrip", "\u3000{% if true %}x{% endif %}", {}),
    ("ws_tabs", "\t\t{% for i in [1,2] %}\n\t\t{{ i }}\n\t\t{% endfor %}\n", {}),
    ("ws_two_trailing_newlines", "a\n\n", {}),
    # literals and operators
    ("lit_numbers", "{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 1e3 }} {{ 0x1F }} {{ 1_000 }} {{ 2.5e-7 }} {{ 1e16 }} {{ 123456789.125 }}", {}),
    ("lit_strings", "{{ 'a\\'b' }} {{ \"q\\\"x\" }} {{ 'tab\\tnl\\n' }} {{ '\\u00e9\\x41\\N{BULLET}' }} {{ 'un\\known' }} {{ 'a' 'b' }}", {}),
    ("lit_collections", "{{ [1, 'a', none, true, 1.5] }} {{ (1,) }} {{ (1, 2) }} {{ () }} {{ {'k': 'v', 1: [2]} }} {{ [] }} {{ {} }}", {}),
    ("lit_repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', '\\n\\x00\\u200b'] }}", {}),
    ("op_arithmetic", "{{ 7 + 2 }} {{ 7 - 9 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 8 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7.5 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }}", {}),
    ("op_mixed_numbers", "{{ 1 + 1.5 }} {{ true + 1 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }}", {}),
    ("op_strings_lists", "{{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 2 * 'x' }} {{ [1] + [2] }} {{ [0] * 3 }} {{ 'a' ~ 1 ~ none ~ true }} {{ missing ~ 'x' }}", {}),
    ("op_comparisons", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ 1 != 2 }} {{ none == none }} {{ 'x' == none }}", {}),
    ("op_in", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 1 in missing }}", {}),
    ("op_logic_returns_operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }} {{ not 0 }} {{ not 'a' }}", {}),
    ("op_condexpr", "{{ 'y' if true else 'n' }} {{ 'y' if false else 'n' }} [{{ 'y' if false }}] {{ 1 if 0 else 2 if 1 else 3 }}", {}),
    ("op_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 'a' ~ (1 + 2) }} {{ 1 + 2 ~ 'a' if false else 'b' }} {{ not 1 == 2 }} {{ [1,2,3]|length - 1 }} {{ -3|abs }}", {}),
    ("op_unary", "{{ -x }} {{ +x }} {{ - -x }} {{ -1.5 }}", {"x": 3}),
    # variables, attributes, items, undefined
    ("var_undefined_prints_empty", "[{{ nothing }}][{{ m.missing }}][{{ m['missing'] }}][{{ l[5] }}]", {"m": {"a": 1}, "l": [1]}),
    ("var_attr_and_item", "{{ m.a }} {{ m['a'] }} {{ l[0] }} {{ l[-1] }} {{ l.0 }} {{ s[1] }} {{ s[-1] }}", {"m": {"a": 1}, "l": [1, 2], "s": "h\U0001F600y"}),
    ("var_dict_method_beats_key", "{{ m.items is defined }} {{ m['items'] }} {{ m.get('items') }}", {"m": {"items": 5}}),
    ("var_is_defined", "{{ x is defined }} {{ y is defined }} {{ m.a is defined }} {{ m.b is defined }} {{ y is undefined }}", {"x": None, "m": {"a": 0}}),
    ("var_none_prints_None", "{{ x }} {{ x is none }} {{ x is not none }}", {"x": None}),
    ("var_default", "{{ y|default('d') }} {{ x|default('d') }} {{ e|default('d') }} {{ e|default('d', true) }} {{ y|d(3) }}", {"x": None, "e": ""}),
    ("err_attr_of_undefined", "{{ y.z }}", {}),
    ("err_undefined_arith", "{{ y + 1 }}", {}),
    ("err_call_undefined", "{{ y() }}", {}),
    ("err_concat_binds_tighter_than_plus", "{{ 'a' ~ 1 + 2 }}", {}),
    ("err_str_plus_int", "{{ 'a' + 1 }}", {}),
    ("err_none_plus_str", "{{ x + 'a' }}", {"x": None}),
    ("err_unknown_filter", "{{ 'a'|nosuchfilter }}", {}),
    ("err_unknown_test", "{{ 'a' is nosuchtest }}", {}),
    ("err_unknown_tag", "{% nosuchtag %}", {}),
    ("err_unclosed", "{% if true %}x", {}),
    ("err_raise_exception", "{{ raise_exception('bad conversation') }}", {}),
    ("err_list_append_unsafe", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("err_compare_types", "{{ 1 < 'a' }}", {}),
    ("err_int_index_of_empty", "{{ messages[0].content }}", {"messages": []}),
    # loops and scoping
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("loop_prev_next_cycle", "{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a','b') }};{% endfor %}", {}),
    ("loop_else", "{% for x in [] %}x{% else %}empty{% endfor %} {% for x in missing %}x{% else %}none{% endfor %}", {}),
    ("loop_filter_counts_kept", "{% for x in range(10) if x is odd %}{{ loop.index }}:{{ x }} {% endfor %}", {}),
    ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_unpack", "{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}", {"m": {"b": 1, "a": 2}}),
    ("loop_dict_iterates_keys", "{% for k in m %}{{ k }}{% endfor %}", {"m": {"x": 1, "y": 2}}),
    ("loop_nested_loop_var", "{% for a in [1,2] %}{% for b in [1,2] %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("scope_set_in_loop_is_local", "{% set x = 5 %}{% for i in [1,2] %}[{{ x }}]{% set x = i %}({{ x }}){% endfor %}<{{ x }}>", {}),
    ("scope_set_in_loop_fresh_each_time", "{% for i in [1,2] %}[{{ y }}]{% set y = i %}{% endfor %}<{{ y }}>", {}),
    ("scope_set_in_if_is_visible", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}", {}),
    ("scope_namespace", "{% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}", {}),
    ("scope_tuple_set", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}", {}),
    ("scope_set_block", "{% set body %}\n  hello {{ name }}\n{% endset %}[{{ body }}]{% set up | upper | trim %} x {% endset %}[{{ up }}]", {"name": "you"}),
    ("scope_with", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("loop_recursive", "{% for n in tree recursive %}{{ n.name }}{% if n.kids %}({{ loop(n.kids) }}){% endif %}{% endfor %}", {"tree": [{"name": "a", "kids": [{"name": "b", "kids": []}, {"name": "c"}]}, {"name": "d"}]}),
    ("reversed_slice_loop", "{% for m in messages[::-1] %}{{ loop.index0 }}{{ m.role[0] }}{% endfor %}", {"messages": MSGS}),
    # macros, call, filter blocks
    ("macro_defaults_kwargs", "{% macro greet(name, greeting='Hi') %}{{ greeting }} {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', greeting='Yo') }} {{ greet(name='Cy') }}", {}),
    ("macro_call_block", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}", {}),
    ("filter_block", "{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("generation_tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.role }}{% endif %}\n{% endfor %}", {"messages": MSGS}),
    # filters
    ("f_trim_python_whitespace", "[{{ '\\u3000 x\\u00a0\\n'|trim }}][{{ 'xxhixx'|trim('x') }}][{{ '\\u200bz\\u200b'|trim }}]", {}),
    ("f_case", "{{ 'hello wORLD'|capitalize }} {{ 'hello wORLD-x (y)'|title }} {{ 'Ab'|lower }} {{ 'straße'|upper }}", {}),
    ("f_length_count", "{{ 'h\U0001F600y'|length }} {{ [1,2]|count }} {{ {'a':1}|length }} {{ missing|length }}", {}),
    ("f_join_list_string", "{{ [1, 'a', none]|join(', ') }} {{ 'abc'|join('-') }} {{ 'abc'|list }} {{ users|join(', ', attribute='name') }}", {"users": [{"name": "x"}, {"name": "y"}]}),
    ("f_first_last", "{{ [3,4]|first }} {{ [3,4]|last }} {{ 'abc'|first }} [{{ []|first }}]", {}),
    ("f_replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'ab'|replace('', '-') }}", {}),
    ("f_int_float_string", "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 'x'|float }} {{ 42|string ~ '!' }} {{ '0x1A'|int(0, 16) }}", {}),
    ("f_abs_round", "{{ -3|abs }} {{ (-2.5)|abs }} {{ 2.675|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }}", {}),
    ("f_sort_unique_reverse", "{{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3,1,2]|sort(reverse=true) }} {{ users|sort(attribute='age')|map(attribute='name')|list }} {{ ['a', 'A', 'b']|unique|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }}", {"users": [{"name": "x", "age": 3}, {"name": "y", "age": 1}]}),
    ("f_dictsort_items", "{{ {'b': 1, 'a': 2}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }} {{ {'b': 1, 'a': 2}|items|list }} {{ missing|items|list }}", {}),
    ("f_select_reject", "{{ [0,1,2,3]|select|list }} {{ [0,1,2,3]|select('odd')|list }} {{ [1,2,3]|reject('equalto', 2)|list }} {{ [1,2,3,4]|select('divisibleby', 2)|list }} {{ ['a', 1, none]|select('string')|list }}", {}),
    ("f_selectattr_rejectattr", "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ messages|rejectattr('role', 'in', ['user', 'system'])|list|length }} {{ tools|selectattr('enabled')|map(attribute='name')|join(',') }}", {"messages": MSGS, "tools": [{"name": "a", "enabled": True}, {"name": "b", "enabled": False}]}),
    ("f_map_filter_name", "{{ ['a', 'b']|map('upper')|list }} {{ [' a ', 'b ']|map('trim')|join('|') }} {{ users|map(attribute='missing', default='?')|list }}", {"users": [{"name": "x"}]}),
    ("f_min_max_sum", "{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A']|min }} {{ [1, 2, 3]|sum }} {{ users|sum(attribute='age') }} {{ [0.5, 1]|sum(start=1) }}", {"users": [{"age": 3}, {"age": 4}]}),
    ("f_indent_center_wordcount", "[{{ 'a\\nb\\n\\nc'|indent(2) }}][{{ 'a\\nb'|indent(2, true) }}][{{ 'a\\n\\nb'|indent('> ', blank=true) }}][{{ 'ab'|center(6) }}]{{ 'one two,three'|wordcount }}", {}),
    ("f_escape_safe", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }} {{ '<b>'|escape }}", {}),
    ("f_batch_groupby", "{{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|batch(2, 0)|list }} {% for g in users|groupby('city') %}{{ g.grouper }}:{{ g.list|map(attribute='name')|join('+') }};{% endfor %}", {"users": [{"name": "a", "city": "P"}, {"name": "b", "city": "L"}, {"name": "c", "city": "P"}]}),
    ("f_format_truncate", "{{ '%s has %d items (%r)'|format('cart', 3, 'x') }} {{ 'The quick brown fox jumps over'|truncate(15) }} {{ 'The quick brown fox jumps over'|truncate(15, true, '..', 0) }}", {}),
    ("f_tojson_default", "{{ x|tojson }}", {"x": {"b": [1, 2.5, None, True, "é\u2028\n\"\\"], "a": {"n": 1e16, "m": 0.1}, "e": [], "o": {}}}),
    ("f_tojson_options", "{{ x|tojson(indent=2) }}\n{{ x|tojson(sort_keys=true) }}\n{{ x|tojson(separators=(',', ':')) }}\n{{ x|tojson(ensure_ascii=true) }}", {"x": {"b": [1, {"z": "\U0001F600é"}], "a": None}}),
    ("f_tojson_non_string_keys", "{{ {1: 'a', none: 'b', true: 'c', 2.5: 'd'}|tojson }}", {}),
    ("f_attr", "{{ ns|attr('x') }} [{{ m|attr('a') }}]", {"m": {"a": 1}, "ns": None}),
    # tests
    ("tests_types", "{{ 'a' is string }} {{ 1 is number }} {{ 1.0 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ [1] is iterable }} {{ {} is mapping }} {{ [] is sequence }} {{ none is none }} {{ 1 is callable }} {{ range is callable }}", {}),
    ("tests_values", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 2 is in [1,2] }} {{ 3 is gt 2 }} {{ 3 is ge 4 }} {{ 1 is lt(2) }} {{ 2 is le 2 }} {{ 1 is eq 1 }} {{ 1 is ne 1 }} {{ 1 is sameas 1 }} {{ false is false }} {{ 0 is false }} {{ true is true }}", {}),
    ("tests_not", "{{ x is not string }} {{ x is not defined }} {{ not x is string }}", {"x": 1}),
    # string methods
    ("m_split", "{{ '  a  b\\u3000c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b '.split(none, 1) }} {{ 'x</think>y</think>z'.split('</think>')[-1] }}", {}),
    ("m_strip", "[{{ '\\n\\nx\\n'.strip('\\n') }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ 'abcxcba'.strip('abc') }}][{{ '\\x1cx\\x85'.strip() }}]", {}),
    ("m_starts_ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.startswith(('a', 'b')) }}", {}),
    ("m_misc", "{{ 'a-b'.replace('-', '+') }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ '-'.join(['a', 'b']) }} {{ 'Hello World'.lower() }} {{ 'x'.upper() }} {{ 'hello world'.title() }} {{ 'hello'.capitalize() }} {{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ '5'.zfill(3) }} {{ 'a\\nb\\r\\nc'.splitlines() }}", {}),
    ("m_format", "{{ '{} and {}'.format('a', 1) }} {{ '{0}{0}'.format('x') }} {{ '{name}!'.format(name='n') }}", {}),
    ("m_dict", "{{ m.keys()|list }} {{ m.values()|list }} {{ m.items()|list }} {{ m.get('a') }} {{ m.get('z', 'def') }} {{ m.get('z') }}", {"m": {"a": 1, "b": [2]}}),
    ("m_slices", "{{ 'abcdef'[1:3] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[::-1] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[:-2] }} {{ [1,2,3,4][1:] }} {{ [1,2,3,4][::-2] }} {{ 'abc'[10:] }} {{ 'h\U0001F600y'[1:2] }}", {}),
    ("percent_format", "{{ '%s-%s' % ('a', 1) }} {{ '%d%%' % 50 }} {{ '%.2f' % 3.14159 }}", {}),
    # globals
    ("g_range_dict_namespace", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(3, 0, -1)|list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", {}),
    ("g_strftime_now", "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %y %I%p') }}", {}),
    # chat-shaped templates: content is data
    ("chat_content_is_data", "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}", {"messages": MSGS}),
    ("chat_generation_prompt", "{% for m in messages %}{{ m.role }}: {{ m.content | trim }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}", {"messages": MSGS, "add_generation_prompt": True}),
    ("chat_system_first", "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set loop_messages = messages[1:] %}{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}[{{ system|trim }}]{% for m in loop_messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{{ m['role'] }};{% endfor %}", {"messages": MSGS}),
    ("chat_roles_must_alternate", "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% endfor %}", {"messages": MSGS}),
    ("chat_tools_json", "{% if tools %}{% for t in tools %}{{ t | tojson(indent=4) }}\n{% endfor %}{% endif %}{{ tools is none }}", {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]}),
    ("chat_tool_calls", "{% for m in messages %}{% if m.tool_calls %}{% for tc in m.tool_calls %}{% if tc.function is defined %}{% set tc = tc.function %}{% endif %}<call>{{ tc.name }} {{ tc.arguments if tc.arguments is string else tc.arguments | tojson }}</call>{% endfor %}{% endif %}{% endfor %}", {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}, {"name": "g", "arguments": "{\"y\": 2}"}]}]}),
]


def main():
    env = environment()
    out = []
    for name, template, variables in CASES:
        case = {"name": name, "template": template, "vars": variables}
        try:
            case["expected"] = env.from_string(template).render(**variables)
        except Exception as e:  # every failure mode is an error row for us too
            case["error"] = True
            case["error_type"] = type(e).__name__
            case["error_message"] = str(e)
        out.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generated_by": "jinja2 " + jinja2.__version__ + " with transformers' chat-template environment",
                   "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(out)} cases, {sum(1 for c in out if c.get('error'))} errors -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
