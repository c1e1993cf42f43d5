"""Renders every template of a corpus folder with Jinja2, as the template plugin's
conformance reference: the same settings the plugin uses by default (autoescape for .html,
.htm and .xml names; undefined values render empty; no trailing newline kept), the
variables from the folder's vars.json, and the plugin's extra filters that Jinja2 lacks
(b64encode, b64decode). Prints a JSON object: template name -> output, or {"error": text}.

Usage: jinja_peer.py CORPUS_DIR
"""

import base64
import json
import sys
from pathlib import Path

import jinja2


def main() -> int:
    corpus = Path(sys.argv[1])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(corpus)),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        extensions=["jinja2.ext.loopcontrols"],
    )
    env.filters["b64encode"] = lambda s: base64.b64encode(str(s).encode()).decode()
    env.filters["b64decode"] = lambda s: base64.b64decode(s).decode()
    variables = json.loads((corpus / "vars.json").read_text())
    out = {}
    for path in sorted(corpus.iterdir()):
        if path.name == "vars.json" or path.name.startswith(("inc_", "macros")):
            continue
        try:
            out[path.name] = env.get_template(path.name).render(**variables)
        except Exception as e:  # every failure is data for the comparison
            out[path.name] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout, ensure_ascii=False, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
