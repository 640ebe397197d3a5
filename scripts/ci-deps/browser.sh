#!/usr/bin/env bash
# The OHIF viewer's end-to-end test (tests/tests/ohif.rs): real headless Chromium driven by
# Selenium through chromedriver (tests/py/ohif_viewer.py), Pillow for the screenshot checks, and
# the prebuilt OHIF viewer itself, fetched at its pinned version by scripts/fetch-ohif.sh.
source "$(dirname "$0")/lib.bash"
apt_install chromium chromium-driver fonts-dejavu-core curl ca-certificates python3-pip
pip_install selenium pillow
bash "$(dirname "$0")/../fetch-ohif.sh"
