"""Debian's headless Chromium under Selenium, as the console's tests and benchmark start it:
the packaged browser and driver (never a downloaded one), a fresh profile, the counter's
1366×768 screen, and no traffic of its own."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

PACKAGES = "chromium and chromium-driver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,768",
)


def chromium_paths() -> tuple[str, str] | None:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(browser: str, driver: str, profile: Path, *extra: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}", *extra):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))
