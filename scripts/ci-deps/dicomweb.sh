#!/usr/bin/env bash
# The DICOMweb peer of the HTTP listener's end-to-end tests (tests/tests/dicomweb.rs runs
# tests/python/dicomweb_peer.py): the dicomweb-client package, with pydicom and numpy to decode
# what it retrieves.
source "$(dirname "$0")/lib.bash"
apt_install python3-pip
pip_install dicomweb-client pydicom numpy
