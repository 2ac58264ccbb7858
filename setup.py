"""Only for ``scrapyd-deploy``, which builds the egg it uploads with ``setup.py bdist_egg``.

Everything is declared in pyproject.toml; without this file scrapyd-deploy would write its
own setup.py, one that leaves out the site profiles (package data).
"""

from setuptools import setup

setup()
