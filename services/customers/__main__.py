"""`python -m services.customers`: the customers service alone, as compose runs it."""

from __future__ import annotations

import uvicorn

from psa.config import Config
from psa.gc_tuning import tune_gc

from .main import create_app


def main() -> None:
    config = Config()
    app = create_app(config)
    tune_gc()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=config.log_level,
        root_path=config.root_path,
    )


if __name__ == "__main__":
    main()
