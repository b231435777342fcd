"""`python -m services.customers`: the customers service alone, as compose runs it."""

from __future__ import annotations

from psa.config import Config
from psa.web import serve

from .main import create_app


def main() -> None:
    config = Config()
    serve(create_app(config), config)


if __name__ == "__main__":
    main()
