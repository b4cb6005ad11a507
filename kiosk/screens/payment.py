"""Card payment: the amount, what the terminal says, Cancel; then the outcome in plain words.
Declined, timed out, cancelled or terminal offline: nothing was charged, the application is
saved, and the resident can try again or pay at the counter."""
from __future__ import annotations

from kivy.clock import Clock

from ui.messages import format_money

from ui.screens import AppScreen, ViewModel, load_kv


class PaymentViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        app = v.application
        if app is None:
            return {}, [], {}
        state = v.payment_state
        ended = state in ("declined", "timeout", "cancelled", "offline", "pending", "unrecorded")
        texts = {"title": tr.get("payment.title", lang),
                 "amount": tr.get("payment.amount", lang, amount=format_money(
                     app["fee_minor"], app["currency"], lang, tr.digits)),
                 "number_label": tr.get("result.number", lang), "number": app["number"],
                 "follow": tr.get(f"payment.{state}", lang) if ended
                 else tr.get("payment.follow", lang),
                 "progress": v.payment_progress if state == "waiting" else "",
                 "cancel": tr.get("common.cancel", lang),
                 "retry": tr.get("payment.retry", lang),
                 "pay_counter": tr.get("review.pay_counter", lang)}
        return texts, [], {"waiting": state in (None, "waiting"), "ended": ended,
                           "can_retry": ended and state != "unrecorded",
                           "state": state or ""}


class PaymentScreen(AppScreen):
    view_model_class = PaymentViewModel
    _poll = None

    def entered(self, app) -> None:
        # What the terminal shows ("insert card") arrives on its thread: look twice a second.
        self._poll = Clock.schedule_interval(lambda dt: app.refresh_current(), 0.5)
        if app.flow.visit.payment_state is None:
            app.act("pay")

    def left(self, app) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None


load_kv(__file__)
