#!/usr/bin/env python
"""Thin alias for the `jiesu` command."""

from jiesu.__main__ import main

if __name__ == "__main__":
    main()
