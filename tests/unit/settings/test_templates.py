"""The sandbox measures a width before it makes the text: filters, string methods and format strings
given a width above the output limit are refused at once (they built hundreds of megabytes first)."""
from __future__ import annotations

import pytest

from providers.workstation.templates import MAX_OUTPUT, TemplateProblem, render

WIDE = MAX_OUTPUT + 1


@pytest.mark.parametrize("template", [
    f'{{{{ "x"|center({WIDE}) }}}}',
    f'{{{{ "x"|indent(width={WIDE}) }}}}',
    f'{{{{ "a b"|wordwrap({WIDE}) }}}}',
    f'{{{{ "x"|truncate({WIDE}) ~ "x".ljust({WIDE}) }}}}',
    f'{{{{ "x".zfill({WIDE}) }}}}',
    f'{{{{ "x".rjust({WIDE}, "-") }}}}',
    f'{{{{ "%{WIDE}s" % "x" }}}}',
    f'{{{{ "%.{WIDE}f" % 1.5 }}}}',
    f'{{{{ "%-{WIDE}s"|format("x") }}}}',
    f'{{{{ "{{:>{WIDE}}}".format("x") }}}}',
    f'{{{{ "{{0:.{WIDE}}}".format_map({{"0": "x"}}) }}}}',
])
def test_a_width_above_the_limit_is_refused_before_the_text_is_made(template):
    with pytest.raises(TemplateProblem, match=f"{WIDE}"):
        render(template, user="bob")


def test_ordinary_widths_and_formats_still_render():
    text = render('{{ "x"|center(5) }}|{{ "%5s" % user }}|{{ "{:>4}".format(user) }}|{{ "port %d" % port }}|'
                  '{{ user.ljust(4, ".") }}|{{ "a"|indent(2) }}|{{ "%s"|format(user) }}', user="bob", port=20000)
    assert text == "  x  |  bob| bob|port 20000|bob.|a|bob"
