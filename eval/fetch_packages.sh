#!/usr/bin/env bash
# Downloads the published packages of eval/packages.tsv (pinned versions, each artifact checked against its
# sha256) and unpacks the folder of each that the function-level evaluation reads:
#
#     eval/fetch_packages.sh DATA_DIR          # then: eval/run_packages.sh DATA_DIR
#
# DATA_DIR/downloads/ keeps the artifacts, DATA_DIR/src/NAME/ the evaluated folder of package NAME.
# Packages already unpacked are skipped. Nothing here is committed to the repository.
#
# Clients: pip (PyPI sdists, `pip download --no-deps --no-binary :all:`), cargo (crates.io: a throwaway
# project pinning the crate, `cargo vendor`; the .crate's sha256 is the one cargo records), npm (`npm pack`),
# apt-get (`apt-get download` of Debian's golang-*-dev packages, which carry Go source, unpacked with
# `dpkg -x`), and for Java the upstream tarball of a Debian source package, from the pool of the Debian
# archive apt is configured with (Maven Central is not among the registries this project can reach).
#
# None of these projects is listed in ../shared/bench/training-exclude.txt (checked when they were chosen;
# `--check-exclude FILE` checks again). Licences are in eval/packages.tsv.
#
# Prints `sha256 MISMATCH` and exits 1 when an artifact differs from its pin; `--print-sha` prints each
# artifact's sha256 instead of checking it (to pin a new version).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
manifest="$here/packages.tsv"
print_sha=0
exclude=""
data=""
while [ $# -gt 0 ]; do
    case "$1" in
        --print-sha) print_sha=1 ;;
        --check-exclude) exclude="$2"; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) data="$1" ;;
    esac
    shift
done
[ -n "$data" ] || { echo "usage: $0 [--print-sha] [--check-exclude FILE] DATA_DIR" >&2; exit 2; }
mkdir -p "$data/downloads" "$data/src"
data="$(cd "$data" && pwd)"
dl="$data/downloads"

if [ -n "$exclude" ]; then
    bad=0
    while IFS=$'\t' read -r lang name pkg ver source sha sub licence; do
        case "$lang" in ''|'#'*) continue ;; esac
        if grep -v '^#' "$exclude" | cut -f1 | grep -qixF -e "$name" -e "$pkg"; then
            echo "$name is listed in $exclude" >&2
            bad=1
        fi
    done < "$manifest"
    [ "$bad" = 0 ] || exit 1
    echo "no package is listed in $exclude"
fi

# The Debian archive apt uses (deb822 sources or the classic list).
debian_mirror() {
    local m=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m="$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)"
    fi
    [ -n "$m" ] || { echo "no Debian archive configured for apt" >&2; return 1; }
    echo "${m%/}"
}

check() { # FILE SHA NAME
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$print_sha" = 1 ]; then
        printf '%s\t%s\n' "$3" "$got"
    elif [ "$got" != "$2" ]; then
        echo "$3: sha256 MISMATCH for $(basename "$1"): got $got, pinned $2" >&2
        exit 1
    fi
}

unpack() { # ARCHIVE DEST (drops the archive's single top folder)
    mkdir -p "$2"
    tar -xf "$1" -C "$2" --strip-components=1
}

while IFS=$'\t' read -r lang name pkg ver source sha sub licence; do
    case "$lang" in ''|'#'*) continue ;; esac
    dest="$data/src/$name"
    if [ -d "$dest" ] && [ "$print_sha" = 0 ]; then
        echo "$name: already unpacked"
        continue
    fi
    work="$data/unpack/$name"
    rm -rf "$work"
    mkdir -p "$work"
    case "$source" in
        pip)
            art="$(ls "$dl"/"$pkg"-"$ver".tar.gz "$dl"/"${pkg//-/_}"-"$ver".tar.gz 2>/dev/null | head -1 || true)"
            if [ -z "$art" ]; then
                pip download --quiet --no-deps --no-binary :all: "$pkg==$ver" -d "$dl" >&2
                art="$(ls "$dl"/"$pkg"-"$ver".tar.gz "$dl"/"${pkg//-/_}"-"$ver".tar.gz 2>/dev/null | head -1)"
            fi
            check "$art" "$sha" "$name"
            unpack "$art" "$work"
            ;;
        crate)
            art="$dl/$pkg-$ver.crate.d"
            if [ ! -d "$art" ]; then
                proj="$data/unpack/cargo-$pkg"
                rm -rf "$proj"
                mkdir -p "$proj/src"
                printf '[package]\nname = "fetch-%s"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s = "=%s"\n' \
                    "$pkg" "$pkg" "$ver" > "$proj/Cargo.toml"
                : > "$proj/src/lib.rs"
                (cd "$proj" && cargo vendor --quiet --versioned-dirs vendor > /dev/null)
                cp -r "$proj/vendor/$pkg-$ver" "$art"
                rm -rf "$proj"
            fi
            got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["package"])' "$art/.cargo-checksum.json")"
            if [ "$print_sha" = 1 ]; then
                printf '%s\t%s\n' "$name" "$got"
            elif [ "$got" != "$sha" ]; then
                echo "$name: sha256 MISMATCH for the .crate: got $got, pinned $sha" >&2
                exit 1
            fi
            cp -r "$art/." "$work"
            ;;
        npm)
            art="$dl/$pkg-$ver.tgz"
            [ -f "$art" ] || (cd "$dl" && npm pack --silent "$pkg@$ver" > /dev/null)
            check "$art" "$sha" "$name"
            unpack "$art" "$work"
            ;;
        deb)
            art="$(ls "$dl"/"${pkg}"_"${ver}"_*.deb 2>/dev/null | head -1 || true)"
            if [ -z "$art" ]; then
                (cd "$dl" && apt-get download -q "$pkg=$ver" > /dev/null 2>&1) \
                    || { echo "$name: apt-get download $pkg=$ver failed (run apt-get update first?)" >&2; exit 1; }
                art="$(ls "$dl"/"${pkg}"_"${ver}"_*.deb | head -1)"
            fi
            check "$art" "$sha" "$name"
            dpkg -x "$art" "$work"
            ;;
        debsrc:*)
            path="${source#debsrc:}"
            art="$dl/$(basename "$path")"
            if [ ! -f "$art" ]; then
                mirror="$(debian_mirror)"
                curl -sSfL -o "$art.part" "$mirror/pool/main/$path"
                mv "$art.part" "$art"
            fi
            check "$art" "$sha" "$name"
            unpack "$art" "$work"
            ;;
        *) echo "$name: unknown source $source" >&2; exit 1 ;;
    esac
    if [ "$print_sha" = 0 ]; then
        [ -d "$work/$sub" ] || { echo "$name: no folder $sub in the package" >&2; exit 1; }
        rm -rf "$dest"
        if [ "$sub" = "." ]; then mv "$work" "$dest"; else mv "$work/$sub" "$dest"; fi
        echo "$name $ver ($lang, $licence): $(find "$dest" -type f | wc -l) files"
    fi
    rm -rf "$work"
done < "$manifest"
rm -rf "$data/unpack"
