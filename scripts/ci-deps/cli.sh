#!/usr/bin/env bash
# Test tools for sample-data: DCMTK dcmdump, dicom3tools dciodvfy and pydicom read the generated files.
source "$(dirname "$0")/lib.bash"
apt_install dcmtk dicom3tools
pip_install pydicom numpy
