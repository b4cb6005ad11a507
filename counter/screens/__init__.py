"""The counter's screens: each a .py (its Screen and view-model) and a .kv (its layout),
shown in the frame of root.kv; base.py has what they share, items.py the item widgets,
chrome.py the frame's view-model. Importing this package imports no Kivy."""
from __future__ import annotations

from ui.launch import class_at

# desk.screen -> the screen that shows it (counter.screens.<module>.<Class>).
SCREEN_CLASSES = {
    "signin": "signin.SignInScreen", "locked": "locked.LockedScreen",
    "shift_open": "shift_open.ShiftOpenScreen", "desk": "desk.DeskScreen",
    "search": "search.SearchScreen", "apply": "apply.ApplyScreen",
    "payment": "payment.PaymentScreen", "authorise": "authorise.AuthoriseScreen",
    "reason": "authorise.AuthoriseScreen", "transfer": "transfer.TransferScreen",
    "verify": "verify.VerifyScreen", "shift_close": "shift_close.ShiftCloseScreen",
    "z_report": "z_report.ZReportScreen", "documents": "documents.DocumentsScreen",
    "away": "away.AwayScreen"}


def screen_class(name: str) -> type:
    """The Screen class for one of desk.screen's values (imports Kivy)."""
    return class_at(f"counter.screens.{SCREEN_CLASSES[name]}")
