#!/usr/bin/env bash
# Test tools for sample-data: DCMTK dcmdump, dicom3tools dciodvfy and pydicom read the generated files;
# libfaketime runs the demo walk-through with the hub's clock moved ahead.
source "$(dirname "$0")/lib.bash"
apt_install dcmtk dicom3tools faketime
pip_install pydicom numpy
