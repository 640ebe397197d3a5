#!/usr/bin/env bash
# Reference decoders for the imaging conformance test (worker/imaging/tests/conformance.rs) and the
# side-by-side benchmark (bench/imaging/compare.sh): DCMTK, GDCM, and pydicom with the pylibjpeg plugins.
# None of these were written here; they are what our decoders are checked against.
source "$(dirname "$0")/lib.bash"
apt_install dcmtk libgdcm-tools python3-pip
pip_install pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy
