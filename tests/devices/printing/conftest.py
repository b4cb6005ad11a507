import sys
from pathlib import Path

# escpos_decode.py (the test's ESC/POS raster decoder) sits beside the tests
sys.path.insert(0, str(Path(__file__).parent))
