"""``python -m schoolplan.demo [out_dir] [--seed N]``: write the SYNTHETIC demo county files."""

from schoolplan.demo.generate import main

main()
