import sys
from pathlib import Path

# synthetic_pages.py (photographs of A4 pages made in the tests) sits beside the tests
sys.path.insert(0, str(Path(__file__).parent))
