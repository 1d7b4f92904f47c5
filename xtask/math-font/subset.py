#!/usr/bin/env python3
"""Cuts Latin Modern Math down to the characters the book's equations use.

The whole font (latinmodern-math.woff2 beside this file, GUST Font License, that is the LaTeX
Project Public License 1.3c) is 388 KiB, and a chapter whose first screen has an equation
waits for it on a slow connection. The book's MathML uses a few hundred characters, listed one
per line as U+XXXX in characters.txt beside this file; the app's test
`every_character_in_the_books_math_is_in_the_font_subset` fails, naming the characters, when a
chapter starts using one that is not listed. Add them there and run:

    python3 xtask/math-font/subset.py

It installs fontTools into ~/.cache/mlbook-tools/fonttools-venv once, keeps every glyph the
listed characters reach through the MATH table (the larger sizes and pieces of stretchy
brackets, roots and sums) and every layout feature, and writes
style/fonts/latinmodern-math-book.woff2, a modified version under its own file name.
"""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = Path.home() / ".cache" / "mlbook-tools" / "fonttools-venv"
OUT = ROOT / "style" / "fonts" / "latinmodern-math-book.woff2"


def main():
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "fonttools==4.69.1", "brotli==1.2.1"], check=True)
    subprocess.run(
        [
            str(python), "-m", "fontTools.subset", str(HERE / "latinmodern-math.woff2"),
            f"--unicodes-file={HERE / 'characters.txt'}",
            "--layout-features=*",
            "--flavor=woff2",
            f"--output-file={OUT}",
        ],
        check=True,
    )
    print(f"{OUT.relative_to(ROOT)}: {os.path.getsize(OUT):,} bytes")


if __name__ == "__main__":
    main()
