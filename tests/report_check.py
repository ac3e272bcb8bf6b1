#!/usr/bin/python3
"""Checks an HTML report the way a reader meets it.

1. The file parses as HTML5 with html5lib's strict parser (any parse error
   fails), has no <script>, and refers to nothing outside itself (no http:,
   https:, //host or file references: every image is a data: URI).
2. Headless Chromium (Debian's) loads it over the DevTools pipe
   (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4, so
   no port and no websocket library). Any console error, uncaught exception,
   failed load or log entry of level error fails; every <img> and every SVG
   <image> must decode to a non-empty picture.
3. It prints to PDF (printable), and a full-page screenshot is saved for a
   person to look at.

usage: report_check.py REPORT.html SCREENSHOT.png [--expect-figures N] [--tiles H]
Exit 0 when all holds, 1 with one line per problem otherwise, 77 when
chromium or html5lib is missing (CTest reports a skip).
"""
import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
TILES = 0  # --tiles H: also SHOT-1.png, SHOT-2.png, ... of H pixels each

CHECK_IMAGES_JS = r"""
(async () => {
  const bad = [];
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) bad.push('img ' + img.src.slice(0, 40));
  }
  const XL = 'http://www.w3.org/1999/xlink';
  const svgImages = Array.from(document.querySelectorAll('svg image'));
  for (const el of svgImages) {
    const href = el.getAttribute('href') || el.getAttributeNS(XL, 'href') || '';
    const im = new Image();
    im.src = href;
    try {
      await im.decode();
      if (im.naturalWidth === 0) bad.push('svg image of width 0');
      const w = Number(el.getAttribute('width')), h = Number(el.getAttribute('height'));
      if (im.naturalWidth !== w || im.naturalHeight !== h)
        bad.push('svg image ' + im.naturalWidth + 'x' + im.naturalHeight +
                 ' drawn at ' + w + 'x' + h);
    } catch (e) {
      bad.push('svg image does not decode: ' + href.slice(0, 40));
    }
  }
  const empty = Array.from(document.querySelectorAll('svg'))
      .filter(s => s.getBoundingClientRect().width < 10).length;
  if (empty) bad.push(empty + ' svg figures render with no width');
  return JSON.stringify({bad: bad, figures: document.querySelectorAll('figure').length,
                         svg_images: svgImages.length, tables: document.querySelectorAll('table').length,
                         height: document.documentElement.scrollHeight});
})()
"""


def static_checks(path):
    problems = []
    try:
        import html5lib
    except ImportError:
        print("SKIP: python3-html5lib is not installed")
        sys.exit(SKIP)
    data = open(path, "rb").read()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(data)
    except Exception as e:  # html5lib raises ParseError with the position
        problems.append("html5lib (strict): %s" % e)
    text = data.decode("utf-8", "replace")
    if re.search(r"<script\b", text, re.I):
        problems.append("the report has a <script>")
    for m in re.finditer(r'(?:href|src)\s*=\s*"([^"]*)"', text):
        url = m.group(1)
        if not (url.startswith("data:") or url.startswith("#")):
            problems.append("refers outside itself: %s" % url[:80])
    if re.search(r"url\((?!#|data:)", text):
        problems.append("a CSS url() outside the file")
    return problems


class Pipe:
    """Chromium's DevTools pipe: write requests to fd 3, read replies from fd 4."""

    def __init__(self, chromium, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def child():
            # through fresh copies: a pipe end may already sit on 3 or 4,
            # and dup2 onto itself would keep its close-on-exec flag
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--remote-debugging-pipe",
                "--user-data-dir=" + profile, "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=child, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        want = self.next_id
        while True:
            m = self.read(timeout)
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            self.events.append(m)

    def read(self, timeout):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium in %g s" % timeout)
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method, timeout=60):
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.time() + timeout
        while True:
            m = self.read(max(0.1, deadline - time.time()))
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def browser_checks(path, shot):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium is not installed (scripts/setup.sh installs it)")
        sys.exit(SKIP)
    problems = []
    profile = tempfile.mkdtemp(prefix="ss-chromium-")
    b = Pipe(chromium, profile)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(domain + ".enable", session=s)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=s)
        b.send("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=s)
        b.wait_event("Page.loadEventFired")
        r = b.send("Runtime.evaluate", {"expression": CHECK_IMAGES_JS, "awaitPromise": True,
                                        "returnByValue": True}, session=s)
        if "exceptionDetails" in r:
            problems.append("image check failed: %s" % r["exceptionDetails"].get("text"))
            info = {"bad": [], "figures": 0, "svg_images": 0, "tables": 0, "height": 900}
        else:
            info = json.loads(r["result"]["value"])
        problems += info["bad"]
        pdf = b.send("Page.printToPDF", {}, session=s, timeout=120)
        if len(base64.b64decode(pdf.get("data", ""))) < 1000:
            problems.append("printing to PDF gave nothing")
        height = min(int(info["height"]) + 20, 20000)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1200, "height": height, "deviceScaleFactor": 1, "mobile": False},
               session=s)
        png = b.send("Page.captureScreenshot", {"format": "png"}, session=s, timeout=120)
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
        if TILES:
            # the page in screen-sized pieces, easier to look at than one long strip
            for i, y in enumerate(range(0, height, TILES)):
                clip = {"x": 0, "y": y, "width": 1200, "height": min(TILES, height - y),
                        "scale": 1}
                t = b.send("Page.captureScreenshot", {"format": "png", "clip": clip},
                           session=s, timeout=120)
                with open(shot[:-4] + "-%d.png" % (i + 1), "wb") as f:
                    f.write(base64.b64decode(t["data"]))
        # anything the page said on the way (events arrive in order)
        b.send("Runtime.evaluate", {"expression": "1"}, session=s)
        for e in b.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                problems.append("console %s: %s" % (p["type"], p.get("args")))
            elif m == "Runtime.exceptionThrown":
                problems.append("exception: %s" % p["exceptionDetails"].get("text"))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                problems.append("log error: %s" % p["entry"].get("text"))
            elif m == "Network.loadingFailed":
                problems.append("load failed: %s" % p.get("errorText"))
        return problems, info
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    path, shot = sys.argv[1], sys.argv[2]
    expect = None
    if "--expect-figures" in sys.argv:
        expect = int(sys.argv[sys.argv.index("--expect-figures") + 1])
    global TILES
    if "--tiles" in sys.argv:
        TILES = int(sys.argv[sys.argv.index("--tiles") + 1])
    problems = static_checks(path)
    more, info = browser_checks(path, shot)
    problems += more
    if expect is not None and info["figures"] != expect:
        problems.append("%d figures, expected %d" % (info["figures"], expect))
    for p in problems:
        print("%s: %s" % (path, p))
    print("%s: %d figures, %d embedded rasters, %d tables; screenshot %s" %
          (path, info["figures"], info["svg_images"], info["tables"], shot))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
