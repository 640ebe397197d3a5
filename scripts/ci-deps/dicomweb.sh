#!/usr/bin/env bash
# Peers of the HTTP listener's end-to-end tests (tests/tests/dicomweb.rs): the dicomweb-client
# package (tests/python/dicomweb_peer.py, dicomweb_matrix.py) with pydicom and numpy to decode
# what it retrieves, and Orthanc with its DICOMweb plugin pulling a study (orthanc_pull.py).
source "$(dirname "$0")/lib.bash"
apt_install python3-pip orthanc orthanc-dicomweb
pip_install dicomweb-client pydicom numpy requests
