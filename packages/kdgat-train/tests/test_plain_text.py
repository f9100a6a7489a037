"""One-line errors carry no terminal escape codes."""

from kdgat_train.plain_text import first_line, plain_text


def test_escape_codes_are_removed_and_the_first_line_kept():
    torch_says = ("Weights only load failed. \x1b[1mdo those steps only if you trust the source\x1b[0m. \n\t(1) In PyTorch")
    assert plain_text("\x1b[31mred\x1b[0m \x1b[2K\x1b[1;32mgreen\x1b[m") == "red green"
    assert first_line(torch_says) == "Weights only load failed. do those steps only if you trust the source."
    assert first_line("x" * 300, 10) == "x" * 10 and first_line("") == ""
