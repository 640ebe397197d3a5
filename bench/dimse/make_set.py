"""Makes the benchmark set from corpus templates: N small instances (CT_small, 39 KB) and M large
ones (RG1_UNCR, a 1955x1841 16-bit radiograph, 7.2 MB), each with its own SOP Instance UID.

usage: make_set.py CORPUS OUT N_SMALL N_LARGE"""

import os
import sys

import pydicom
from pydicom.uid import generate_uid


def copies(template, out_dir, n, prefix):
    os.makedirs(out_dir, exist_ok=True)
    ds = pydicom.dcmread(template)
    study = generate_uid(prefix=None)
    series = generate_uid(prefix=None)
    for i in range(n):
        ds.SOPInstanceUID = generate_uid(prefix=None)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.InstanceNumber = i + 1
        ds.save_as(os.path.join(out_dir, f"{prefix}{i:05d}.dcm"), enforce_file_format=True)


def main():
    corpus, out, n_small, n_large = sys.argv[1:5]
    copies(os.path.join(corpus, "dicom/pydicom-test-files/CT_small.dcm"), os.path.join(out, "small"), int(n_small), "s")
    copies(os.path.join(corpus, "dicom/pydicom-data/RG1_UNCR.dcm"), os.path.join(out, "large"), int(n_large), "l")


if __name__ == "__main__":
    main()
