"""Pack the engine into one tar on the controller: pack_engine.py SOURCE_DIR ARCHIVE RELPATH...

One transfer and one unarchive instead of a copy per file (a copy per file was 25 of a deploy's 40 s).
The archive is the same bytes for the same files on any controller (sorted, root-owned, one fixed
mtime), so a second deploy from another checkout finds nothing to change. The fixed mtime is why the
role byte-compiles with force whenever the archive changed anything: a pyc's mtime check alone would
miss an edit that keeps a file's size.
"""
import io
import os
import sys
import tarfile

MTIME = 315532800  # 1980-01-01, the earliest a zip can say; what reproducible wheels use too


def member(name, size=0, directory=False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = size
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def pack(source, archive, names):
    directories = set()
    for name in names:
        parent = os.path.dirname(name)
        while parent:
            directories.add(parent)
            parent = os.path.dirname(parent)
    partial = archive + ".partial"
    with tarfile.open(partial, "w", format=tarfile.USTAR_FORMAT) as tar:
        for directory in sorted(directories):
            tar.addfile(member(directory, directory=True))
        for name in sorted(names):
            with open(os.path.join(source, name), "rb") as handle:
                data = handle.read()
            tar.addfile(member(name, size=len(data)), io.BytesIO(data))
    os.replace(partial, archive)  # a reader never sees half an archive


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__.splitlines()[0] + "\n")
        return 2
    source, archive, names = argv[0], argv[1], argv[2:]
    unsafe = [name for name in names if os.path.isabs(name) or ".." in name.split("/")]
    if unsafe:
        sys.stderr.write("pack_engine: not below the source directory: %s\n" % ", ".join(unsafe))
        return 2
    pack(source, archive, names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
