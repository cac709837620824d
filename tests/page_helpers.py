"""A live `engine serve` on a small scene index (shipped CLIPPO checkpoint) and a headless Debian
Chromium driven by Selenium, for the search-page tests.

Chromium runs with every background service off: it would otherwise call Google's servers,
which cannot be reached here and which the network-log assertion would catch anyway.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.demo import MODELS, PICTURE_PX
from engine.index.build import build
from engine.index.collect import images_in, text_item
from engine.scenes import Scene, caption, full_spec, random_scenes
from engine.scenes.files import write_pictures

REPO = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SEED = "page-test"  # a collection no checkpoint was trained on
TEXT_LANGS = ("en", "th", "ar", "ja")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--window-size=1280,900",
    "--lang=en-US",
)


@dataclass
class SceneIndex:
    directory: Path
    scenes: list[Scene]
    pictures: list[Path]


def build_scene_index(root: Path, count: int = 48, texts: int = 6) -> SceneIndex:
    """`count` fresh scenes drawn at the model's input size, plus the full captions of the first
    `texts` scenes in four scripts, indexed with the shipped CLIPPO checkpoint."""
    scenes = random_scenes(count, SEED)
    pictures = write_pictures(scenes, root / "photos", PICTURE_PX)
    captions = [text_item(caption(full_spec(scene), lang), lang) for scene in scenes[:texts] for lang in TEXT_LANGS]
    build(root / "index", MODELS["CLIPPO"], images_in(root / "photos") + captions, [])
    return SceneIndex(root / "index", scenes, pictures)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(index_dir: Path, *options: str, ready_s: float = 120.0) -> Iterator[str]:
    """`engine serve INDEX_DIR` in a child process; yields its base URL once /health answers."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", str(index_dir), "--port", str(port), *options], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"engine serve exited with {process.returncode}: {log.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"engine serve did not answer within {ready_s:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def browser_missing() -> str | None:
    """Why the browser tests cannot run (after trying to install Chromium), or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        subprocess.run(["bash", str(REPO / "scripts" / "install_browser")], check=False)
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        return f"Debian's chromium and chromium-driver are not installed ({CHROMIUM}, {CHROMEDRIVER}) and apt-get could not install them"
    return None


@contextmanager
def chromium(profile: Path) -> Iterator:
    """A headless Chromium with a fresh profile and its network log recorded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    env = {**os.environ, "SE_AVOID_STATS": "true"}
    service = Service(executable_path=str(CHROMEDRIVER), env=env)  # a fixed driver: Selenium Manager never runs
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
