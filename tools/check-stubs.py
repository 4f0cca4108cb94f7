#!/usr/bin/env python3
"""check-stubs.py: do the type stubs name what the firmware has?

Usage: tools/check-stubs.py FIRMWARE

For each stub micropython-glue/python/<module>.pyi, runs FIRMWARE (a unix
MicroPython with umqtt_rs and its frozen Python layers, or the stock one with
the native module installed: tools/mpy-natmod.sh) and compares the public
names (not starting with "_"):

- of the module: dir(module) against the stub's top-level definitions.  Names
  the layer's own .py binds by importing (`import time`, `from time import
  ticks_ms`) are not its API and are left out, unless the stub re-exports
  them (`from umqtt_rs import MQTTException as MQTTException`);
- of each class the stub defines: dir(class) against the names in the class
  body (and in its stub base classes).  A name the firmware has that the stub
  lacks fails.  A stub name that dir(class) does not list fails unless
  hasattr() finds it on an instance made without connecting,
  Class("id", "localhost"): attributes from the native type's attr handler
  (sock, session_present...), instance attributes set by __init__, names a
  layer passes on to the native client with __getattr__;
- for a class without __getattr__ (the native MQTTClient), dir() of that
  instance too, less what every exception instance has (args, value, errno):
  MicroPython lists attr-handler properties there and not in dir(class).

Exit 0 when every stub matches, 1 naming each missing or extra name, 2 on a
usage or firmware error.  Host Python 3, standard library only.
"""

import ast
import os
import subprocess
import sys


def die(msg):
    print("check-stubs: " + msg, file=sys.stderr)
    sys.exit(2)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBS = os.path.join(TOP, "micropython-glue", "python")
MODULES = ("umqtt_rs", "umqtt_rs_robust", "umqtt_rs_asyncio")


def public(names):
    return {n for n in names if not n.startswith("_")}


def top_level(body):
    # Statements at module level, through if/try blocks (a layer's optional
    # imports sit in try/except ImportError).
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from top_level(node.body)
            yield from top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from top_level(node.body)
            for h in node.handlers:
                yield from top_level(h.body)
            yield from top_level(node.orelse)
            yield from top_level(node.finalbody)


def bound_names(node):
    # Names a definition or assignment in a stub binds.
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        # Only the explicit re-export form `import x as x` counts (PEP 484).
        return [a.asname for a in node.names if a.asname is not None and a.asname == a.name]
    return []


def imported_names(path):
    # Names the layer's .py binds by importing at module level.
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in top_level(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add(a.asname or a.name.split(".")[0])
    return names


def parse_stub(path):
    # Returns (module names, {class: names including its stub bases'}).
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    module = set()
    bodies = {}
    bases = {}
    for node in top_level(tree.body):
        module.update(bound_names(node))
        if isinstance(node, ast.ClassDef):
            names = set()
            for item in node.body:
                names.update(bound_names(item))
            bodies[node.name] = names
            bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]

    def all_names(cls, seen=()):
        names = set(bodies[cls])
        for b in bases[cls]:
            if b in bodies and b not in seen:
                names |= all_names(b, seen + (cls,))
        return names

    return public(module), {c: public(all_names(c)) for c in public(bodies)}


# Run on the firmware: prints a dict that ast.literal_eval reads.
PROBE = """
import {module} as m
out = {{"module": dir(m), "classes": {{}}}}
exc = dir(Exception("x"))
for name, stub in {classes!r}.items():
    if not hasattr(m, name):
        continue
    cls = getattr(m, name)
    r = {{"dir": dir(cls), "has": {{}}, "instance": [], "error": None}}
    try:
        inst = cls("id", "localhost")
    except Exception as e:
        r["error"] = repr(e)
    else:
        if "__getattr__" not in dir(cls):
            r["instance"] = [n for n in dir(inst) if n not in exc]
        for n in stub:
            r["has"][n] = hasattr(inst, n)
    out["classes"][name] = r
print(repr(out))
"""


def probe(firmware, module, classes):
    script = PROBE.format(module=module, classes={c: sorted(n) for c, n in classes.items()})
    p = subprocess.run([firmware, "-c", script], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        die("%s failed on %s:\n%s%s" % (firmware, module, p.stdout, p.stderr))
    return ast.literal_eval(p.stdout.strip().splitlines()[-1])


# What only a firmware built with MQTT 5 (MQTT5=1) has: a stub may name it
# on a firmware without (recognised by its lack of PROP_USER_PROPERTY).
MQTT5_ONLY_ATTRS = {"connack", "set_auth_callback", "reauth", "request"}


def mqtt5_only(name):
    return name.startswith("PROP_") or name in MQTT5_ONLY_ATTRS


def check(firmware, module):
    # Returns the list of problems with the module's stub.
    stub_path = os.path.join(STUBS, module + ".pyi")
    stub_module, stub_classes = parse_stub(stub_path)
    real = probe(firmware, module, stub_classes)
    problems = []
    if module == "umqtt_rs" and "PROP_USER_PROPERTY" not in real["module"]:
        stub_module = {n for n in stub_module if not mqtt5_only(n)}
        stub_classes = {c: {n for n in names if not mqtt5_only(n)} for c, names in stub_classes.items()}

    names = public(real["module"]) - (imported_names(os.path.join(STUBS, module + ".py")) - stub_module)
    for n in sorted(names - stub_module):
        problems.append("%s: %s is missing from the stub" % (module, n))
    for n in sorted(stub_module - names):
        problems.append("%s: %s is in the stub, not in the module" % (module, n))

    for cls in sorted(stub_classes):
        r = real["classes"].get(cls)
        if r is None:
            continue  # already reported as a module name
        stub = stub_classes[cls]
        listed = public(r["dir"]) | public(r["instance"])
        for n in sorted(listed - stub):
            problems.append("%s.%s: %s is missing from the stub" % (module, cls, n))
        unlisted = stub - listed
        if unlisted and r["error"] is not None:
            problems.append("%s.%s: cannot check %s: %s(\"id\", \"localhost\") raised %s"
                            % (module, cls, ", ".join(sorted(unlisted)), cls, r["error"]))
            continue
        for n in sorted(unlisted):
            if not r["has"].get(n):
                problems.append("%s.%s: %s is in the stub, not on the firmware" % (module, cls, n))
    return problems


def main():
    if len(sys.argv) != 2:
        die("usage: tools/check-stubs.py FIRMWARE")
    firmware = sys.argv[1]
    if not os.access(firmware, os.X_OK):
        die("%s is not an executable firmware" % firmware)
    problems = []
    for module in MODULES:
        found = check(firmware, module)
        problems += found
        print("%s  %s.pyi" % ("FAIL" if found else "pass", module))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
