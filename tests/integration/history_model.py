#!/usr/bin/env python3
"""history_model.py - a model of the account that random history is checked
against (t0290-history-model.sh).

  history_model.py run MNT OUT [OPS [SEED [PAUSE]]]
      Make OPS random changes through the live tree at MNT (documents
      created, edited in place, rewritten, replaced through a scratch file,
      renamed within and across containers, deleted; invalid JSON written
      over a document; containers made, renamed and dropped; databases
      made), each checked against what the filesystem must answer, and keep
      a plain model of the account. After each change the model is the
      account at an instant taken when the change returned; a sample of
      those instants, with the model's tree (paths, SHA-1 of the bytes),
      goes to OUT as JSON. Halfway, it writes nothing for PAUSE seconds
      (default 0), and records when that quiet time began and ended.
  history_model.py check ROOT OUT [FIRST [LAST]]
      For each recorded instant T (those from index FIRST to LAST), the
      view ROOT/@T/ must hold exactly the model's tree: the same databases,
      containers and documents, byte for byte.
  history_model.py live DIR OUT I
      DIR (a live tree, say a restore of instant I mounted) must hold
      exactly the model's tree at instant I.
  history_model.py gone ROOT OUT I
      The view of instant I must not exist (ENOENT): it was pruned.
  history_model.py pick-undo OUT
      Print "I DB/C": an instant I in the middle of the run and a
      container that is the same one (never renamed, dropped or made
      again since) at I and at the last instant, changed in between.
  history_model.py undone DIR OUT I DB/C
      DIR must hold the model's tree at the last instant, but with DB/C
      as it was at instant I (pitr undo --delete-created).

Exit status 0 when everything agrees; otherwise 1, with the first
difference of each instant on stderr.
"""
import errno
import hashlib
import json
import os
import random
import sys
import time

DBS = ["db1", "sales", "ünï"]
CTS = ["c0", "c1", "orders", "ëvents"]
STATUSES = ["new", "paid", "packed", "shipped", "delivered", "returned"]
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango").split()


def stamp(ns):
    """RFC 3339 UTC with nanoseconds: how a view names an instant."""
    s, f = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % f


def digest(b):
    return hashlib.sha1(b).hexdigest()


class Model:
    def __init__(self, mnt, rnd):
        self.mnt = mnt
        self.r = rnd
        self.tree = {}  # db -> ct -> name -> bytes
        self.serial = 0
        self.gens = {}  # "db/ct" -> when that name last became a container

    # -- documents --------------------------------------------------------
    def gen(self, name):
        r = self.r
        self.serial += 1
        doc = {
            "id": name[:-5],
            "kind": r.choice(["order", "user", "event", "product", "note"]),
            "status": r.choice(STATUSES),
            "updated_at": stamp(1_700_000_000_000_000_000 + self.serial * 7919),
            "counter": r.randrange(1000),
            "customer": {"name": " ".join(r.sample(WORDS, 2)),
                         "email": "%s@example.com" % r.choice(WORDS),
                         "tier": r.choice(["gold", "silver", "bronze"])},
            "items": [{"sku": "SKU-%04d" % r.randrange(10000),
                       "qty": r.randrange(1, 9),
                       "price": round(r.random() * 200, 2)}
                      for _ in range(r.randrange(1, 8))],
            "notes": " ".join(r.choice(WORDS) for _ in range(r.randrange(20, 150))),
        }
        return json.dumps(doc, indent=r.choice([None, 1, 2])).encode()

    def edit(self, body):
        """A small change in place: the status, updated_at, the counter."""
        r = self.r
        d = json.loads(body)
        d["status"] = r.choice(STATUSES)
        self.serial += 1
        d["updated_at"] = stamp(1_700_000_000_000_000_000 + self.serial * 7919)
        d["counter"] = d.get("counter", 0) + 1
        return json.dumps(d, indent=r.choice([None, 1, 2])).encode()

    # -- the filesystem ---------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def write(self, path, body, want=0):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = 0
        try:
            os.write(fd, body)
        finally:
            try:
                os.close(fd)
            except OSError as e:
                err = e.errno
        if err != want:
            raise AssertionError("close of %s: errno %s, want %s" %
                                 (path, errno.errorcode.get(err, err),
                                  errno.errorcode.get(want, want)))

    def docs(self):
        return [(d, c, n) for d, cts in self.tree.items()
                for c, docs in cts.items() for n in docs]

    def cts(self):
        return [(d, c) for d, cts in self.tree.items() for c in cts]

    def new_name(self):
        r = self.r
        stem = r.choice(["o", "u", "é", "x y"])
        return "%s-%d.json" % (stem, r.randrange(400))

    # -- the changes, each returns a word for the op counts ----------------
    def op_mkdb(self):
        free = [d for d in DBS if d not in self.tree]
        if not free:
            return None
        d = self.r.choice(free)
        os.mkdir(self.path(d))
        self.tree[d] = {}
        return "mkdb"

    def op_mkct(self):
        if not self.tree:
            return self.op_mkdb()
        d = self.r.choice(sorted(self.tree))
        free = [c for c in CTS if c not in self.tree[d]]
        if not free:
            return None
        c = self.r.choice(free)
        os.mkdir(self.path(d, c))
        self.tree[d][c] = {}
        self.gens[d + "/" + c] = self.serial
        return "mkct"

    def op_create(self):
        cts = self.cts()
        if not cts:
            return self.op_mkct()
        d, c = self.r.choice(cts)
        n = self.new_name()
        body = self.gen(n)
        self.write(self.path(d, c, n), body)
        self.tree[d][c][n] = body
        return "create"

    def overwrite(self, what, new_body):
        """A document written again in place with new_body(name, old)."""
        docs = self.docs()
        if not docs:
            return self.op_create()
        d, c, n = self.r.choice(docs)
        body = new_body(n, self.tree[d][c][n])
        self.write(self.path(d, c, n), body)
        self.tree[d][c][n] = body
        return what

    def op_edit(self):
        return self.overwrite("edit", lambda n, old: self.edit(old))

    def op_rewrite(self):
        return self.overwrite("rewrite", lambda n, old: self.gen(n))

    def op_replace(self):
        """The atomic-replace idiom: a scratch file renamed onto a
        document (sed -i, rsync, editors)."""
        docs = self.docs()
        if not docs:
            return self.op_create()
        d, c, n = self.r.choice(docs)
        body = self.edit(self.tree[d][c][n])
        tmp = self.path(d, c, ".%s.tmp" % n)
        self.write(tmp, body)
        os.rename(tmp, self.path(d, c, n))
        self.tree[d][c][n] = body
        return "replace"

    def op_invalid(self):
        """Invalid JSON over a document: EINVAL at close, nothing kept."""
        docs = self.docs()
        if not docs:
            return None
        d, c, n = self.r.choice(docs)
        bad = self.r.choice([b"{\"a\": ", b"[1, 2]", b"{\"a\": 1e999}",
                             b"{\"a\": \"\\ud800\"}", b"{} {}"])
        self.write(self.path(d, c, n), bad, errno.EINVAL)
        return "invalid"

    def op_delete(self):
        docs = self.docs()
        if not docs:
            return None
        d, c, n = self.r.choice(docs)
        os.unlink(self.path(d, c, n))
        del self.tree[d][c][n]
        return "delete"

    def op_rename(self):
        """A document renamed within or across containers, onto a new
        name or over another document."""
        docs = self.docs()
        if not docs:
            return None
        d, c, n = self.r.choice(docs)
        d2, c2 = self.r.choice(self.cts())
        others = list(self.tree[d2][c2])
        if others and self.r.random() < 0.3:
            n2 = self.r.choice(others)
        else:
            n2 = self.new_name()
        if (d2, c2, n2) == (d, c, n):
            return None
        os.rename(self.path(d, c, n), self.path(d2, c2, n2))
        self.tree[d2][c2][n2] = self.tree[d][c].pop(n)
        return "rename"

    def op_mvct(self):
        cts = self.cts()
        if not cts:
            return None
        d, c = self.r.choice(cts)
        d2 = self.r.choice(sorted(self.tree))
        free = [x for x in CTS if x not in self.tree[d2]]
        if not free:
            return None
        c2 = self.r.choice(free)
        os.rename(self.path(d, c), self.path(d2, c2))
        self.tree[d2][c2] = self.tree[d].pop(c)
        del self.gens[d + "/" + c]
        self.serial += 1
        self.gens[d2 + "/" + c2] = self.serial
        return "mvct"

    def op_dropct(self):
        """rm -r of a container: its documents, then the container."""
        cts = self.cts()
        if len(cts) < 2:
            return None
        d, c = self.r.choice(cts)
        for n in list(self.tree[d][c]):
            os.unlink(self.path(d, c, n))
        os.rmdir(self.path(d, c))
        del self.tree[d][c]
        del self.gens[d + "/" + c]
        return "dropct"

    def snapshot(self):
        t = {}
        for d, cts in self.tree.items():
            t[d] = ""
            for c, docs in cts.items():
                t[d + "/" + c] = ""
                for n, b in docs.items():
                    t[d + "/" + c + "/" + n] = digest(b)
        return t


OPS = [("create", 26), ("edit", 30), ("rewrite", 8), ("replace", 6),
       ("invalid", 2), ("delete", 6), ("rename", 6), ("mkct", 1),
       ("mvct", 0.5), ("dropct", 0.3), ("mkdb", 0.3)]


def run(mnt, out, nops, seed, pause):
    r = random.Random(seed)
    m = Model(mnt, r)
    names = [o for o, _ in OPS]
    weights = [w for _, w in OPS]
    m.op_mkdb()
    m.op_mkct()
    counts = {}
    marks = []
    done = 0
    quiet = None
    while done < nops:
        if done == nops // 2 and pause and quiet is None:
            quiet = [time.time_ns()]
            time.sleep(pause)
            quiet.append(time.time_ns())
        what = getattr(m, "op_" + r.choices(names, weights)[0])()
        if what is None:
            continue
        done += 1
        counts[what] = counts.get(what, 0) + 1
        t = time.time_ns()
        # the next change commits after t: a view at t holds this one
        # and not the next
        while time.time_ns() <= t:
            pass
        if (what in ("dropct", "mvct", "mkdb", "invalid") or
                r.random() < 0.04 or done == nops):
            marks.append({"t": t, "at": stamp(t), "op": what,
                          "tree": m.snapshot(), "gens": dict(m.gens)})
    with open(out, "w") as f:
        json.dump({"seed": seed, "ops": done, "counts": counts,
                   "quiet": quiet, "marks": marks}, f)
    print("%d changes (%s), %d instants recorded" %
          (done, " ".join("%s %d" % kv for kv in sorted(counts.items())),
           len(marks)))


def walk_error(e):
    raise e


def read_tree(root):
    t = {}
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_error):
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            t[rel] = ""
        for n in filenames:
            with open(os.path.join(dirpath, n), "rb") as f:
                t[os.path.join(rel, n) if rel != "." else n] = digest(f.read())
    return t


def differ(want, got):
    for k in sorted(set(want) | set(got)):
        if k not in got:
            return "missing: %s" % k
        if k not in want:
            return "not in the model: %s" % k
        if want[k] != got[k]:
            return "different bytes: %s" % k
    return None


def main():
    cmd = sys.argv[1]
    if cmd == "pick-undo":
        root, out = None, sys.argv[2]
    else:
        root, out = sys.argv[2:4]
    if cmd == "run":
        nops = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
        seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        pause = float(sys.argv[6]) if len(sys.argv) > 6 else 0
        run(root, out, nops, seed, pause)
        return 0
    with open(out) as f:
        rec = json.load(f)
    marks = rec["marks"]
    bad = 0
    if cmd == "check":
        first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        last = int(sys.argv[5]) if len(sys.argv) > 5 else len(marks) - 1
        for i in range(first, last + 1):
            mk = marks[i]
            why = differ(mk["tree"], read_tree(os.path.join(root, "@" + mk["at"])))
            if why:
                bad += 1
                print("instant %d (%s, after %s): %s" % (i, mk["at"], mk["op"], why),
                      file=sys.stderr)
        print("%d instants checked, %d differ" % (last + 1 - first, bad))
    elif cmd == "live":
        mk = marks[int(sys.argv[4])]
        why = differ(mk["tree"], read_tree(root))
        if why:
            bad = 1
            print("live tree against instant %s: %s" % (mk["at"], why), file=sys.stderr)
    elif cmd == "pick-undo":
        last = marks[-1]["gens"]

        def sub(i, c):
            return {k: v for k, v in marks[i]["tree"].items()
                    if k.startswith(c + "/")}
        for i in range(len(marks) // 2, 0, -1):
            # the same container then and now, changed in between
            same = [c for c, g in sorted(marks[i]["gens"].items())
                    if last.get(c) == g and sub(i, c) != sub(-1, c)]
            if same:
                print(i, same[0])
                return 0
        print("no container lives from the middle to the end", file=sys.stderr)
        bad = 1
    elif cmd == "undone":
        i, ct = int(sys.argv[4]), sys.argv[5]
        inside = lambda k: k.startswith(ct + "/")
        want = {k: v for k, v in marks[-1]["tree"].items() if not inside(k)}
        want.update({k: v for k, v in marks[i]["tree"].items() if inside(k)})
        why = differ(want, read_tree(root))
        if why:
            bad = 1
            print("after undo of %s to instant %d: %s" % (ct, i, why), file=sys.stderr)
    elif cmd == "gone":
        mk = marks[int(sys.argv[4])]
        try:
            os.stat(os.path.join(root, "@" + mk["at"]))
            bad = 1
            print("a pruned instant is still a view: %s" % mk["at"], file=sys.stderr)
        except OSError as e:
            if e.errno != errno.ENOENT:
                bad = 1
                print("pruned view %s: %s, want ENOENT" % (mk["at"], e), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
