#!/usr/bin/env python3
"""Regenerate the raster images of the demo site (www/img/*.png, *.jpg, favicon.ico).

The art is drawn as SVG here (deterministic: fixed random seed), rendered with
headless Chromium and converted/compressed with ImageMagick. Needs: chromium,
convert (ImageMagick 6 or 7). www/img/logo.svg is hand-written and is the
source of the favicon.

    python3 tools/www_images.py            # writes into www/
"""
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "www"))

PETAL = "M0 -4C-17 -12 -23 -30 -12 -43L0 -36L12 -43C23 -30 17 -12 0 -4Z"


def flower_def(fid, inner, outer, edge):
    """An SVG <symbol> of a five-petal blossom, 100x100 units around 0,0."""
    petals = "".join(
        f'<path d="{PETAL}" transform="rotate({a})"/>' for a in range(0, 360, 72))
    stamens = "".join(
        f'<path d="M0 0L{17*math.sin(math.radians(a)):.1f} {-17*math.cos(math.radians(a)):.1f}"/>'
        for a in range(0, 360, 72))
    dots = "".join(
        f'<circle cx="{17*math.sin(math.radians(a)):.1f}" cy="{-17*math.cos(math.radians(a)):.1f}" r="2.4"/>'
        for a in range(0, 360, 72))
    return (
        f'<radialGradient id="{fid}g" cx="0" cy="0" r="44" gradientUnits="userSpaceOnUse">'
        f'<stop offset="0" stop-color="{inner}"/><stop offset=".4" stop-color="{outer}"/>'
        f'<stop offset="1" stop-color="#fff1f5"/></radialGradient>'
        f'<symbol id="{fid}" viewBox="-50 -50 100 100" overflow="visible">'
        f'<g fill="url(#{fid}g)" stroke="{edge}" stroke-width="1.4" stroke-linejoin="round">{petals}</g>'
        f'<g stroke="#9c1c4d" stroke-width="1.2" stroke-linecap="round">{stamens}</g>'
        f'<g fill="#ffd54f">{dots}</g><circle r="5" fill="#6d1838"/></symbol>')


def bezier(p0, p1, p2, p3, t):
    u = 1 - t
    return tuple(u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d
                 for a, b, c, d in zip(p0, p1, p2, p3))


def branch_svg(w, h, rnd, dark=False, scale=1.0):
    """Branch with blossoms: returns (defs, body)."""
    defs = flower_def("fl", "#d81b60", "#f8a5c2", "#c2185b")
    defs += flower_def("fw", "#ec6b98", "#ffd3e1", "#e06a93")
    bark = "#2a1420" if dark else "#5d3a2e"
    s = scale
    # main branch and twigs as cubic curves (coordinates in a 560x400 frame)
    curves = [
        ((-20, 380), (120, 330), (220, 250), (560, 90), 15),
        ((180, 270), (200, 200), (250, 160), (300, 120), 7),
        ((330, 190), (380, 210), (440, 230), (520, 220), 6),
        ((420, 140), (440, 90), (470, 60), (520, 30), 5),
        ((90, 340), (100, 290), (80, 250), (60, 210), 6),
        ((260, 225), (300, 260), (330, 300), (360, 330), 4),
    ]
    body = []
    for p0, p1, p2, p3, width in curves:
        pts = [bezier(p0, p1, p2, p3, t / 16) for t in range(17)]
        for i in range(16):
            (x0, y0), (x1, y1) = pts[i], pts[i + 1]
            wdt = width * (1 - 0.75 * i / 16) * s
            body.append(f'<line x1="{x0*s:.1f}" y1="{y0*s:.1f}" x2="{x1*s:.1f}" '
                        f'y2="{y1*s:.1f}" stroke="{bark}" stroke-width="{wdt:.1f}" '
                        f'stroke-linecap="round"/>')
    flowers = []
    for p0, p1, p2, p3, width in curves:
        for _ in range(5 if width > 10 else 4):
            t = rnd.uniform(0.15, 1.0)
            x, y = bezier(p0, p1, p2, p3, t)
            x += rnd.uniform(-22, 22)
            y += rnd.uniform(-26, 14)
            flowers.append((x, y, rnd.uniform(26, 50), rnd.uniform(0, 72),
                            rnd.choice(["fl", "fw", "fw"])))
    flowers.sort(key=lambda f: f[2])
    for x, y, size, rot, fid in flowers:
        body.append(f'<use href="#{fid}" x="{(x-size/2)*s:.1f}" y="{(y-size/2)*s:.1f}" '
                    f'width="{size*s:.1f}" height="{size*s:.1f}" '
                    f'transform="rotate({rot:.0f} {x*s:.1f} {y*s:.1f})"/>')
    # buds
    for p0, p1, p2, p3, _ in curves[1:]:
        x, y = p3
        body.append(f'<ellipse cx="{(x+6)*s:.1f}" cy="{(y-4)*s:.1f}" rx="{6*s:.1f}" '
                    f'ry="{9*s:.1f}" fill="#e84a83" transform="rotate(50 {(x+6)*s:.1f} {(y-4)*s:.1f})"/>')
    return defs, "".join(body)


def sakura_png_svg():
    rnd = random.Random(7)
    w, h = 560, 400
    defs, body = branch_svg(w, h, rnd)
    falling = []
    for _ in range(9):
        x, y = rnd.uniform(40, 520), rnd.uniform(230, 390)
        falling.append(f'<path d="M0 0C-6 -5 -6 -12 -2 -15L0 -13L2 -15C6 -12 6 -5 0 0Z" '
                       f'fill="#f7a1bd" opacity=".85" transform="translate({x:.0f} {y:.0f}) '
                       f'rotate({rnd.uniform(0, 360):.0f}) scale({rnd.uniform(0.9, 1.6):.2f})"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}"><defs>{defs}</defs>{body}{"".join(falling)}</svg>')


def photo_svg():
    """A 'night sakura' photograph: dusk sky, bokeh, a lit branch."""
    rnd = random.Random(11)
    w, h = 1200, 480
    defs, body = branch_svg(w, h, rnd, dark=True, scale=1.35)
    bokeh = []
    for _ in range(70):
        x, y = rnd.uniform(0, w), rnd.uniform(0, h)
        r = rnd.uniform(8, 46)
        col = rnd.choice(["#ffb3c9", "#ff8fb1", "#ffe0ea", "#ffd59e", "#c9a7ff"])
        bokeh.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="{col}" '
                     f'opacity="{rnd.uniform(0.12, 0.45):.2f}"/>')
    lanterns = []
    for i in range(7):
        x = 640 + i * 85 + rnd.uniform(-10, 10)
        y = 330 + math.sin(i) * 18
        lanterns.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="34" fill="#ffb56b" opacity=".35"/>'
                        f'<circle cx="{x:.0f}" cy="{y:.0f}" r="13" fill="#ffd9a0" opacity=".8"/>')
    return f'''<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
<defs>{defs}
<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="#140f26"/><stop offset=".55" stop-color="#3d1f45"/>
<stop offset="1" stop-color="#7a3553"/></linearGradient>
<filter id="blur" x="-20%" y="-20%" width="140%" height="140%"><feGaussianBlur stdDeviation="9"/></filter>
<filter id="soft"><feGaussianBlur stdDeviation="1.1"/></filter>
<filter id="glow"><feGaussianBlur stdDeviation="14"/></filter>
</defs>
<rect width="{w}" height="{h}" fill="url(#sky)"/>
<g filter="url(#glow)">{"".join(lanterns)}</g>
<g filter="url(#blur)">{"".join(bokeh)}</g>
<g filter="url(#soft)" transform="translate(420 -40)">{body}</g>
</svg>'''


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def render(svg, w, h, out_png, tmp, transparent):
    src = os.path.join(tmp, os.path.basename(out_png) + ".html")
    with open(src, "w") as f:
        f.write('<!doctype html><meta charset="utf-8"><style>html,body{margin:0;'
                'background:transparent;overflow:hidden}svg{display:block}</style>' + svg)
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or "google-chrome"
    args = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--window-size={w},{h}", f"--screenshot={out_png}", "file://" + src]
    if transparent:
        args.insert(4, "--default-background-color=00000000")
    run(*args)


def main():
    img = os.path.join(ROOT, "img")
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "sakura_raw.png")
        render(sakura_png_svg(), 560, 400, raw, tmp, True)
        run("convert", raw, "-strip", "+dither", "-colors", "160",
            os.path.join(img, "sakura.png"))

        raw = os.path.join(tmp, "photo_raw.png")
        render(photo_svg(), 1200, 480, raw, tmp, False)
        run("convert", raw, "-strip", "-attenuate", "0.35", "+noise", "Gaussian",
            "-sampling-factor", "4:2:0", "-interlace", "JPEG", "-quality", "70",
            os.path.join(img, "photo.jpg"))

        with open(os.path.join(img, "logo.svg")) as f:
            logo = f.read().replace('width="100" height="100"', 'width="256" height="256"')
        raw = os.path.join(tmp, "logo_raw.png")
        render(logo, 256, 256, raw, tmp, True)
        run("convert", raw, "-background", "#ffe3ec", "-flatten", "-resize", "150x150",
            "-gravity", "center", "-extent", "180x180", "-strip", "+dither", "-colors", "128",
            os.path.join(img, "touch-icon.png"))
        run("convert", raw, "-define", "icon:auto-resize=48,32,16",
            os.path.join(ROOT, "favicon.ico"))
    for name in ("img/sakura.png", "img/photo.jpg", "img/touch-icon.png", "favicon.ico"):
        print(f"{name}: {os.path.getsize(os.path.join(ROOT, name))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
