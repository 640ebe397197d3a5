#!/usr/bin/env bash
# Peers for the DICOM listener's end-to-end tests (tests/tests/dicom_scp.rs): DCMTK's echoscu,
# storescu and storescp (the reference receiver), and pynetdicom (tests/python/push.py).
source "$(dirname "$0")/lib.bash"
apt_install dcmtk python3-pip
pip_install pynetdicom pydicom
