#!/usr/bin/env python3
"""Drives the OHIF viewer the hub serves, in real headless Chromium (Selenium + chromedriver).

Signs in at /login with a token (when one is given), opens each study at
/viewer?StudyInstanceUIDs=..., waits for the image, screenshots the viewport and checks from the
screenshot's pixels that it shows an image (not blank, not an error), then scrolls with the mouse
wheel and checks that the slice changed (OHIF's slice indicator and the pixels). Prints one JSON
line per study and exits non-zero, naming the study and what was wrong, when a check fails.
A missing Chromium, chromedriver or Selenium is a failure, never a skip.

    ohif_viewer.py --base http://127.0.0.1:8080 --token demo-specialist --out DIR UID... [--ecg UID]
"""

import argparse
import io
import json
import re
import sys
import time

from PIL import Image, ImageChops, ImageStat
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    # WebGL2 without a GPU, which Cornerstone3D needs.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--window-size=1280,900",
]
SLICE = re.compile(r"I:\s*(\d+)\s*\((\d+)/(\d+)\)")
ERROR_TEXTS = ("Data Source Connection Error", "Something went wrong", "Error:")


def browser(chromium, driver):
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def sign_in(d, base, token):
    d.get(base + "/login?next=/viewer/")
    d.find_element(By.NAME, "token").send_keys(token)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    deadline = time.time() + 30
    while "/login" in d.current_url and time.time() < deadline:
        time.sleep(0.2)
    if "/login" in d.current_url:
        raise Check("sign-in with the token did not leave /login: " + d.find_element(By.TAG_NAME, "body").text[:300])
    cookies = {c["name"]: c for c in d.get_cookies()}
    session = cookies.get("rdx_session")
    if not session or not session.get("httpOnly") or session.get("sameSite") != "Strict":
        raise Check(f"the session cookie is missing or not HttpOnly + SameSite=Strict: {session}")
    # OHIF's first-visit tour would cover the viewport in every screenshot.
    d.execute_script("localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour']))")


class Check(Exception):
    """A check that failed, with what was seen."""


def viewport(d):
    """The first viewport: the image and its overlay texts (slice indicator, W/L)."""
    found = d.find_elements(By.CSS_SELECTOR, ".viewport-wrapper")
    return found[0] if found else None


def shot(el):
    """The viewport's screenshot, grey, cropped to its middle half so that the overlay texts in
    its corners do not count as image."""
    img = Image.open(io.BytesIO(el.screenshot_as_png)).convert("L")
    w, h = img.size
    return img.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4))


def stats(img):
    st = ImageStat.Stat(img)
    lit = sum(img.histogram()[41:]) / (img.width * img.height)
    return {"mean": round(st.mean[0], 2), "stddev": round(st.stddev[0], 2), "lit": round(lit, 4)}


def slice_indicator(d):
    el = viewport(d)
    text = el.text if el is not None else ""
    m = SLICE.search(text)
    return (int(m.group(2)), int(m.group(3))) if m else None


def page_error(d):
    body = d.find_element(By.TAG_NAME, "body").text
    return next((e for e in ERROR_TEXTS if e in body), None)


POLL_S = 0.5
# From the navigation's start: when the page's scripts could run, and from the first DICOMweb
# request about the study (OHIF's series search) to now, when the image is seen.
PAGE_TIMES = """
const nav = performance.getEntriesByType('navigation')[0];
const study = performance.getEntriesByType('resource').find(r => r.name.includes('/dicomweb/studies/'));
const now = performance.now();
const kinds = {};
for (const r of performance.getEntriesByType('resource')) {
  const m = r.name.match(/\/dicomweb\/.*?(metadata|frames|series\?|instances\?|thumbnail|rendered)/);
  if (!m) continue;
  const k = kinds[m[1]] || (kinds[m[1]] = {n: 0, first_start_s: r.startTime / 1000, last_end_s: 0});
  k.n += 1;
  k.last_end_s = Math.max(k.last_end_s, r.responseEnd / 1000);
}
return {dom_ready_s: +(nav.domContentLoadedEventEnd / 1000).toFixed(2),
        study_to_image_s: study ? +((now - study.startTime) / 1000).toFixed(2) : null,
        dicomweb: kinds};
"""


def wait_for_image(d, uid, timeout):
    """Waits until the viewport shows an image: enough lit, varied pixels."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        err = page_error(d)
        if err:
            raise Check(f"study {uid}: the viewer shows an error ({err!r})")
        el = viewport(d)
        if el is not None and slice_indicator(d):
            img = shot(el)
            last = stats(img)
            if last["stddev"] > 8 and last["lit"] > 0.01:
                return el, img, last
        time.sleep(POLL_S)
    raise Check(f"study {uid}: no image in the viewport after {timeout}s (last pixels {last})")


def scroll(d, el, uid, before_slice, before_img, timeout):
    """Scrolls down one notch at a time until the slice changes; returns the new state."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ActionChains(d).scroll_to_element(el).scroll_from_origin(
            webdriver.common.actions.wheel_input.ScrollOrigin.from_element(el), 0, 120
        ).perform()
        time.sleep(0.7)
        now = slice_indicator(d)
        if now and now[0] != before_slice[0]:
            img = shot(el)
            diff = ImageStat.Stat(ImageChops.difference(before_img, img)).mean[0]
            return now, img, round(diff, 3)
    raise Check(f"study {uid}: scrolling did not change the slice (still {before_slice})")


def open_ecg(d, base, uid, out, timeout):
    """Opens an ECG study: OHIF's ECG viewport draws the leads (no slices to scroll)."""
    started = time.time()
    d.get(f"{base}/viewer?StudyInstanceUIDs={uid}")
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        err = page_error(d)
        if err:
            raise Check(f"ECG study {uid}: the viewer shows an error ({err!r})")
        el = viewport(d)
        if el is not None and d.find_elements(By.CSS_SELECTOR, ".viewport-wrapper canvas"):
            img = shot(el)
            last = stats(img)
            if last["stddev"] > 3 and last["lit"] > 0.005:
                img.save(f"{out}/{uid}-ecg.png")
                return {"study": uid, "ecg": True, "first_image_s": round(time.time() - started, 2), "pixels": last}
        time.sleep(0.5)
    raise Check(f"ECG study {uid}: no traces in the viewport after {timeout}s (last pixels {last})")


def open_study(d, base, uid, out, timeout):
    started = time.time()
    d.get(f"{base}/viewer?StudyInstanceUIDs={uid}")
    el, img, first = wait_for_image(d, uid, timeout)
    first_image_s = round(time.time() - started, 2)
    page = d.execute_script(PAGE_TIMES)
    img.save(f"{out}/{uid}-first.png")
    before = slice_indicator(d)
    result = {"study": uid, "first_image_s": first_image_s, "pixels": first, "slice": before,
              "page": page}
    if before[1] > 1:
        after, img2, diff = scroll(d, el, uid, before, img, timeout)
        img2.save(f"{out}/{uid}-scrolled.png")
        if diff <= 0.0:
            raise Check(f"study {uid}: the slice indicator moved to {after} but the image did not change")
        result.update({"scrolled_slice": after, "scroll_pixel_diff": diff})
    return result


def main():
    global POLL_S
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the hub's HTTP root, e.g. http://127.0.0.1:8080")
    ap.add_argument("--token", help="sign in at /login with this token first")
    ap.add_argument("--out", required=True, help="folder for the screenshots")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--driver", default="/usr/bin/chromedriver")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--poll", type=float, default=0.5, help="seconds between looks at the viewport")
    ap.add_argument("--ecg", action="append", default=[], help="an ECG study to open (repeatable)")
    ap.add_argument("studies", nargs="*", help="Study Instance UIDs of images to open")
    a = ap.parse_args()
    POLL_S = a.poll
    try:
        d = browser(a.chromium, a.driver)
    except WebDriverException as e:
        print(f"cannot start Chromium ({a.chromium}) with chromedriver ({a.driver}): {e.msg}; "
              "install them with scripts/ci-deps/browser.sh", file=sys.stderr)
        return 2
    try:
        if a.token:
            sign_in(d, a.base, a.token)
        else:
            d.get(a.base + "/viewer/")
            d.execute_script("localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour']))")
        for uid in a.studies:
            print(json.dumps(open_study(d, a.base, uid, a.out, a.timeout)), flush=True)
        for uid in a.ecg:
            print(json.dumps(open_ecg(d, a.base, uid, a.out, a.timeout)), flush=True)
    except Check as e:
        d.save_screenshot(f"{a.out}/failure.png")
        for entry in d.get_log("browser")[-20:]:
            print("browser:", entry.get("message", "")[:300], file=sys.stderr)
        print(f"FAILED: {e} (screenshot {a.out}/failure.png)", file=sys.stderr)
        return 1
    finally:
        d.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
