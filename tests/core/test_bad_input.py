"""Bad input gets a clear error and changes nothing (docs/input-policy.md).

Each refusal is checked against a snapshot of every row of every table, and the row counts
of tickets, applications, payments, licences, audit and outbox are compared by name."""
import pytest

from core import money
from core.errors import InvalidState, NotFound, ValidationError
from core.text import clean_text

WATCHED = ("tickets", "applications", "payments", "licences", "audit", "outbox")


def table_counts(office) -> dict:
    return {t: office.store.one(f"SELECT COUNT(*) AS n FROM {t}")["n"] for t in WATCHED}


@pytest.fixture
def refuse(office, db_state):
    """refuse(error, operation, *args, field=..., match=...) -> the exception."""
    def check(error, operation, *args, field=None, match=None, **kwargs):
        before, counts = db_state(), table_counts(office)
        with pytest.raises(error, match=match) as info:
            operation(*args, **kwargs)
        assert table_counts(office) == counts
        assert db_state() == before
        assert not office.store.in_transaction()
        if field is not None:
            assert info.value.field == field, info.value
            assert str(info.value)  # a message for the person, not an empty error
        return info.value

    return check


@pytest.fixture
def world(office, submit_valid, till):
    """Some ordinary state for the refusals to leave alone."""
    office.queue.take_ticket("R")
    paid = submit_valid()
    office.payments.take(paid["id"], "cash", till.clerk, tendered_minor=1000)
    issued = submit_valid()
    office.payments.take(issued["id"], "card", till.clerk, reference="T9")
    office.licences.issue(issued["id"])
    return {"paid": paid, "issued": issued, "submitted": submit_valid("B"), "till": till}


# --- unknown service ------------------------------------------------------------------------

def test_unknown_service(office, world, refuse, valid_fields):
    for operation, args in [(office.queue.take_ticket, ("passport-renewal",)),
                            (office.applications.submit, ("passport-renewal",
                                                          valid_fields())),
                            (office.applications.save_draft, ("X", {})),
                            (office.queue.call_next, ("1", ["R", "Z"]))]:
        err = refuse(ValidationError, operation, *args, field="service")
        assert "unknown service" in str(err) and "residence-certificate" in str(err)


# --- national ID ----------------------------------------------------------------------------

@pytest.mark.parametrize("nid, problem", [
    ("12345", "format"), ("8501012390", "format"), ("85010123X", "format"),
    ("850-101-239", "format"), ("٨٥٠١٠١٢٣", "format"),
    ("850101230", "check digit"), ("850101238", "check digit"), ("٨٥٠١٠١٢٣٨", "check digit"),
])
def test_invalid_national_id(world, refuse, submit_valid, nid, problem):
    err = refuse(ValidationError, submit_valid, national_id=nid, field="national_id")
    assert problem in str(err)


def test_valid_national_id_in_arabic_digits_is_accepted(submit_valid):
    assert submit_valid(national_id="٨٥٠١٠١٢٣٩")["fields"]["national_id"] == "850101239"


# --- the small building permit's area -------------------------------------------------------

@pytest.mark.parametrize("area", [50, 50.0, "50", "50.000", "٥٠", 120, "120", 0, "-5", "abc",
                                  "1e2", ""])
def test_area_of_50_or_more_is_refused(world, refuse, submit_valid, area):
    err = refuse(ValidationError, submit_valid, "building-permit-small", area_m2=area,
                 field="area_m2")
    assert "area_m2" in str(err)


def test_area_limit_message_says_why(refuse, submit_valid):
    err = refuse(ValidationError, submit_valid, "building-permit-small", area_m2=50,
                 field="area_m2")
    assert "must be under 50 m²" in str(err) and err.details["limit"] == "50"


@pytest.mark.parametrize("area, stored", [(49.99, "49.99"), ("49.99", "49.99"),
                                          ("٤٩٫٥", "49.5"), (1, "1"), ("0.5", "0.5")])
def test_area_under_50_passes(submit_valid, area, stored):
    app = submit_valid("building-permit-small", area_m2=area)
    assert app["fields"]["area_m2"] == stored


# --- missing / unknown fields ---------------------------------------------------------------

@pytest.mark.parametrize("service, key", [("residence-certificate", "phone"),
                                          ("residence-certificate", "full_name"),
                                          ("building-permit-small", "area_m2"),
                                          ("address-form", "action"),
                                          ("building-land-tax", "assessed_amount")])
def test_missing_required_field(world, refuse, valid_fields, office, service, key):
    fields = valid_fields(service)
    del fields[key]
    err = refuse(ValidationError, office.applications.submit, service, fields, field=key)
    assert "required" in str(err)
    fields[key] = "   "
    refuse(ValidationError, office.applications.submit, service, fields, field=key)


def test_fields_must_be_a_mapping_of_known_fields(world, refuse, office, valid_fields):
    refuse(ValidationError, office.applications.submit, "R", ["full_name", "Ali"],
           field="fields")
    refuse(ValidationError, office.applications.submit, "R",
           valid_fields(shoe_size="44"), field="shoe_size")
    refuse(ValidationError, office.applications.submit, "R", valid_fields(full_name=42),
           field="full_name")
    refuse(ValidationError, office.applications.submit, "R",
           valid_fields(full_name="x" * 101), field="full_name")


def test_optional_field_may_be_left_out(submit_valid):
    app = submit_valid("building-permit-small", description=None)
    assert "description" not in app["fields"]


# --- payments -------------------------------------------------------------------------------

def test_payment_for_an_unknown_application(office, world, refuse):
    refuse(NotFound, office.payments.take, "MUH-D01-A2026-777777", "cash", "sara",
           tendered_minor=1000, match="no application")


def test_payment_for_an_already_paid_application(office, world, refuse):
    refuse(InvalidState, office.payments.take, world["paid"]["id"], "cash", "sara",
           tendered_minor=1000, match="already paid")
    refuse(InvalidState, office.payments.take, world["issued"]["number"], "online", "sara",
           reference="G", match="already paid")


@pytest.mark.parametrize("tendered", [0, -1000, -1, 100_000_001, 10 ** 18, 1.5, None])
def test_bad_tendered_amounts(office, world, refuse, tendered):
    refuse(ValidationError, office.payments.take, world["submitted"]["id"], "cash", "sara",
           tendered_minor=tendered, field="tendered")


@pytest.mark.parametrize("text, problem", [
    ("1.0005", "more than 3 decimals"), ("0", "more than zero"), ("0.000", "more than zero"),
    ("-1", "positive"), ("-0.500", "positive"), ("1e3", "not an amount"),
    ("1,000", "not an amount"), ("", "not an amount"), ("abc", "not an amount"),
    ("100000.001", "above the limit"), ("9999999999", "above the limit"),
])
def test_parse_amount_refuses(world, refuse, office, text, problem):
    # how a counter screen turns what the clerk typed into tendered_minor
    def pay(typed):
        tendered = money.parse_amount(typed, "BHD", "tendered",
                                      office.settings.validation.max_amount_minor)
        office.payments.take(world["submitted"]["id"], "cash", "sara", tendered_minor=tendered)

    err = refuse(ValidationError, pay, text, field="tendered")
    assert problem in str(err)


def test_parse_amount_accepts_exact_values():
    assert money.parse_amount("1.5", "BHD") == 1500
    assert money.parse_amount("1.500", "BHD") == 1500
    assert money.parse_amount("1.5000", "BHD") == 1500  # trailing zeros are not fils
    assert money.parse_amount("0.001", "BHD") == 1
    assert money.parse_amount(" 20 ", "BHD") == 20_000
    assert money.parse_amount(3, "BHD") == 3000
    assert money.parse_amount("100000", "BHD", max_minor=100_000_000) == 100_000_000
    assert money.parse_amount("0.01", "USD") == 1
    with pytest.raises(ValidationError):
        money.parse_amount("0.001", "USD")
    with pytest.raises(ValidationError, match="unknown currency"):
        money.parse_amount("1", "XXX")
    assert money.format_amount(1_234_567, "BHD") == "1,234.567 BHD"


@pytest.mark.parametrize("amount", ["0", "12.3456", "-3", "100000.001", "1e2"])
def test_bad_assessed_tax_amount(world, refuse, submit_valid, amount):
    refuse(ValidationError, submit_valid, "building-land-tax", assessed_amount=amount,
           field="assessed_amount")


def test_absurd_float_for_a_shift(office, refuse):
    refuse(ValidationError, office.payments.open_shift, "omar", 100_000_001, field="float")


# --- licences -------------------------------------------------------------------------------

def test_issuing_unpaid_or_unapproved(office, world, refuse, submit_valid):
    refuse(InvalidState, office.licences.issue, world["submitted"]["id"], match="submitted")
    office.applications.approve(world["submitted"]["id"])
    refuse(InvalidState, office.licences.issue, world["submitted"]["id"], match="not paid")
    unapproved = submit_valid("E")
    office.payments.take(unapproved["id"], "card", "sara", reference="T")
    refuse(InvalidState, office.licences.issue, unapproved["id"], match="approved")
    rejected = submit_valid("W")
    office.applications.reject(rejected["id"], "no")
    refuse(InvalidState, office.licences.issue, rejected["id"], match="rejected")


def test_issuing_twice(office, world, refuse):
    refuse(InvalidState, office.licences.issue, world["issued"]["id"], match="already has")


# --- text -----------------------------------------------------------------------------------

SQL = "Robert'); DROP TABLE applications;--"


def test_sql_metacharacters_are_stored_verbatim(office, submit_valid, valid_nid):
    app = submit_valid("building-permit-small", full_name=SQL, parcel="1'; --",
                       description='"; DELETE FROM audit; --')
    assert app["fields"]["full_name"] == SQL
    again = office.applications.get(app["id"])
    assert again["fields"]["full_name"] == SQL
    assert again["fields"]["parcel"] == "1'; --"
    assert office.applications.find(national_id=valid_nid())[0]["fields"]["full_name"] == SQL
    tables = {r[0] for r in office.store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"applications", "audit"} <= tables
    assert office.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 1
    assert office.verify_audit()["ok"]


def test_sql_metacharacters_as_lookup_keys_find_nothing(office, world):
    with pytest.raises(NotFound):
        office.applications.get("' OR '1'='1")
    with pytest.raises(NotFound):
        office.queue.get("R001' OR 1=1 --")
    assert office.applications.find(national_id="' OR 1=1 --") == []


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d",
                                     "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
                                     "\u200f", "\u061c"])
def test_bidi_controls_in_a_name_are_refused(world, refuse, submit_valid, control):
    err = refuse(ValidationError, submit_valid, full_name=f"Ali {control}nassaH",
                 field="full_name")
    assert f"U+{ord(control):04X}" in str(err)


def test_rlo_trick_in_a_reason_is_refused(office, world, refuse):
    refuse(ValidationError, office.applications.reject, world["submitted"]["id"],
           "approved\u202e", field="reason")


@pytest.mark.parametrize("typed, stored", [
    ("Ali\u200bHassan", "AliHassan"),
    ("Ali\u200d Hassan", "Ali Hassan"),
    ("\u200bفاطمة\u200d علي\u2060\ufeff", "فاطمة علي"),
    ("Mu\u200cna", "Muna"),
])
def test_zero_width_characters_are_stripped(submit_valid, typed, stored):
    assert submit_valid(full_name=typed)["fields"]["full_name"] == stored


def test_a_name_of_only_invisible_characters_is_missing(world, refuse, submit_valid):
    refuse(ValidationError, submit_valid, full_name="\u200b\u200d\ufeff", field="full_name",
           match="required")


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\r", "\t"])
def test_other_control_characters_are_refused(world, refuse, submit_valid, control):
    refuse(ValidationError, submit_valid, full_name=f"Ali{control}Hassan", field="full_name")


def test_text_is_nfc_normalised():
    decomposed = "Jose\u0301"
    assert clean_text(decomposed, "full_name") == "Jos\u00e9"


def test_bad_input_after_all_this_leaves_the_log_whole(office, world, refuse, submit_valid):
    refuse(ValidationError, submit_valid, full_name="\u202e")
    refuse(ValidationError, office.queue.take_ticket, "R", priority="vip", field="priority")
    refuse(InvalidState, office.queue.finish, "R001")
    assert office.verify_audit()["ok"]


@pytest.mark.parametrize("name", ["Ali\nHasan", "Ali\r\nHasan", "Ali\tHasan"])
def test_line_breaks_and_tabs_in_a_name_are_refused(office, valid_fields, db_state, name):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.applications.submit("residence-certificate", valid_fields(full_name=name))
    assert info.value.field == "full_name" and "control character" in str(info.value)
    assert db_state() == before
