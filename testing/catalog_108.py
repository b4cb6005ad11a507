"""A generated catalogue at a ministry's scale, for tests and benchmarks (issue 25): 108
bilingual services across the three sectors the source material names (municipal affairs,
urban planning, agriculture and marine resources), each sector in six or seven categories of
at most core.service_search.SCREEN_CHOICES services, so every service is three taps deep.

The eight shipped services (assets/catalog/) are among them, unchanged; the other 100 reuse
their shapes (the holder's name, ID and phone, then an address, a parcel, an assessed
amount, a boat or a farm) with fees, issue modes and validities set per category. Ticket
prefixes: the shipped single letters, then two letters per sector (M/N, U/V, G/H + A-Z), so
they stay unique. Deterministic: the same files every run.

    write_catalog_108(directory) -> directory   # 108 *.toml files; load_catalog(dir) loads it
    services_108() -> [settings, ...]           # the same services as catalogue settings
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from core.catalog import DEFAULT_CATALOG_DIR

SECTORS = {
    "municipal-affairs": ("شؤون البلديات", "Municipal affairs", "MN"),
    "urban-planning": ("التخطيط العمراني", "Urban planning", "UV"),
    "agriculture-and-marine-resources": ("الزراعة والثروة البحرية",
                                         "Agriculture and marine resources", "GH"),
}

# sector: [(category code, ar, en, licence type, shape, issue, validity days, fee in fils
#           (None: the assessed amount), [(service ar, service en), ...]), ...]
# The shipped files' categories are here too, with the services they add to them.
CATEGORIES = {
    "municipal-affairs": [
        ("certificates", "الشهادات", "Certificates", "MCRT", "address", "instant", 90, 1000, [
            ("شهادة عدم ممانعة بلدية", "Municipal no-objection certificate"),
            ("شهادة رقم عقار", "Property number certificate"),
            ("شهادة بيانات عقار", "Property details certificate"),
            ("شهادة براءة ذمة بلدية", "Municipal clearance certificate"),
            ("شهادة تأكيد عنوان", "Address confirmation certificate")]),
        ("addresses", "العناوين", "Addresses", "MADR", "address", "review", 365, 500, [
            ("طلب ترقيم مبنى", "Building numbering request"),
            ("طلب لوحة رقم المبنى", "Building number plate request"),
            ("طلب تسمية طريق", "Road naming request")]),
        ("roads-and-excavation", "الطرق والحفريات", "Roads and excavation", "MRDX", "address",
         "review", 30, 10000, [
            ("رخصة إغلاق طريق مؤقت", "Temporary road closure permit"),
            ("رخصة تمديد خدمات تحت الأرض", "Underground utilities extension permit"),
            ("رخصة قطع رصيف", "Kerb cut permit"),
            ("رخصة وضع حاوية مواد بناء على الطريق",
             "Building materials skip on a public road permit")]),
        ("taxes-and-fees", "الضرائب والرسوم", "Taxes and fees", "MTAX", "assessed", "instant",
         365, None, [
            ("رسوم البلدية على العقارات المؤجرة", "Municipal fee on rented property"),
            ("رسوم النظافة", "Cleaning fees"),
            ("رسوم مواقف السيارات", "Parking fees"),
            ("غرامة مخالفة بلدية", "Municipal violation fine")]),
        ("commercial-licences", "التراخيص التجارية", "Commercial licences", "MCOM", "address",
         "review", 365, 25000, [
            ("إصدار رخصة محل تجاري", "Issue a shop licence"),
            ("تجديد رخصة محل تجاري", "Renew a shop licence"),
            ("إلغاء رخصة محل تجاري", "Cancel a shop licence"),
            ("رخصة بسطة في سوق شعبي", "Popular market stall permit"),
            ("رخصة بيع متجول", "Street vending permit"),
            ("رخصة مزاولة نشاط منزلي", "Home business permit")]),
        ("advertising", "الإعلانات واللوحات", "Advertising and signs", "MADV", "address",
         "review", 365, 15000, [
            ("إصدار رخصة لوحة إعلانية", "Issue a billboard licence"),
            ("تجديد رخصة لوحة إعلانية", "Renew a billboard licence"),
            ("رخصة إعلان مؤقت", "Temporary advertisement permit"),
            ("رخصة لافتة محل", "Shop sign permit"),
            ("رخصة إعلان على مركبة", "Vehicle advertisement permit")]),
        ("public-health", "الصحة العامة", "Public health", "MPHL", "address", "review", 365,
         5000, [
            ("شهادة صحية للعاملين في الأغذية", "Food handler health certificate"),
            ("رخصة صحية لمنشأة غذائية", "Food establishment health licence"),
            ("طلب مكافحة الحشرات والقوارض", "Pest and rodent control request"),
            ("رخصة نقل النفايات", "Waste transport permit")]),
    ],
    "urban-planning": [
        ("building-permits", "رخص البناء", "Building permits", "UBLD", "parcel", "review", 365,
         30000, [
            ("رخصة بناء مسكن خاص", "Private house building permit"),
            ("رخصة بناء إضافة على مبنى قائم", "Extension to an existing building permit"),
            ("رخصة ترميم مبنى", "Building renovation permit"),
            ("رخصة بناء سور", "Boundary wall permit"),
            ("تجديد رخصة بناء", "Renew a building permit")]),
        ("site-works", "أعمال المواقع", "Site works", "USIT", "parcel", "review", 90, 20000, [
            ("رخصة هدم مبنى", "Demolition permit"),
            ("رخصة تسوير أرض فضاء", "Vacant land fencing permit"),
            ("رخصة حفر أساسات", "Foundation digging permit"),
            ("رخصة تركيب رافعة برجية", "Tower crane installation permit"),
            ("رخصة سقالات على الطريق العام", "Scaffolding on a public road permit"),
            ("رخصة ردم أرض", "Land filling permit")]),
        ("land-subdivision", "تقسيم الأراضي", "Land subdivision", "ULND", "parcel", "review",
         365, 50000, [
            ("طلب تقسيم أرض", "Land subdivision request"),
            ("طلب دمج قطع أراض", "Plot merger request"),
            ("طلب تعديل حدود قطعة أرض", "Plot boundary adjustment request"),
            ("اعتماد مخطط تقسيم", "Subdivision plan approval"),
            ("طلب فرز وحدات عقارية", "Property unit separation request"),
            ("شهادة مساحة قطعة أرض", "Plot area certificate")]),
        ("zoning", "التصنيف العمراني", "Zoning", "UZON", "parcel", "review", 365, 40000, [
            ("طلب تغيير تصنيف عقار", "Property rezoning request"),
            ("شهادة تصنيف عقار", "Property zoning certificate"),
            ("طلب استثناء من الاشتراطات التنظيمية", "Planning regulations exemption request"),
            ("طلب زيادة ارتفاع مبنى", "Building height increase request"),
            ("طلب تغيير استخدام مبنى", "Change of building use request"),
            ("بيان الاشتراطات التنظيمية لعقار", "Planning requirements statement")]),
        ("surveying", "المساحة والخرائط", "Surveying and maps", "USRV", "parcel", "review",
         180, 15000, [
            ("طلب مسح موقع", "Site survey request"),
            ("طلب تحديد معالم أرض", "Land boundary marking request"),
            ("نسخة من خريطة مساحية", "Copy of a cadastral map"),
            ("شهادة مطابقة موقع", "Site conformity certificate"),
            ("طلب رفع مساحي لمبنى", "Building as-built survey request")]),
        ("engineering-offices", "المكاتب الهندسية والمقاولون",
         "Engineering offices and contractors", "UENG", "commercial", "review", 365, 100000, [
            ("تسجيل مكتب هندسي", "Engineering office registration"),
            ("تجديد تسجيل مكتب هندسي", "Renew an engineering office registration"),
            ("تسجيل مقاول بناء", "Building contractor registration"),
            ("تجديد تسجيل مقاول بناء", "Renew a building contractor registration"),
            ("اعتماد مهندس مشرف", "Supervising engineer approval")]),
    ],
    "agriculture-and-marine-resources": [
        ("plant-health", "الصحة النباتية", "Plant health", "GPLT", "farm", "review", 90, 3000, [
            ("شهادة صحة نباتية للتصدير", "Phytosanitary export certificate"),
            ("إذن استيراد نباتات", "Plant import permit"),
            ("إذن استيراد أسمدة", "Fertiliser import permit"),
            ("إذن استيراد مبيدات زراعية", "Pesticide import permit"),
            ("تسجيل مشتل", "Plant nursery registration"),
            ("طلب فحص آفات زراعية", "Crop pest inspection request")]),
        ("livestock", "الثروة الحيوانية", "Livestock", "GLVS", "farm", "review", 180, 2000, [
            ("تسجيل حظيرة مواشي", "Livestock barn registration"),
            ("إذن استيراد مواشي", "Livestock import permit"),
            ("شهادة صحية بيطرية", "Veterinary health certificate"),
            ("طلب تطعيم مواشي", "Livestock vaccination request"),
            ("تسجيل مزرعة دواجن", "Poultry farm registration"),
            ("رخصة نقل حيوانات", "Animal transport permit")]),
        ("fishing", "الصيد البحري", "Fishing", "GFSH", "boat", "instant", 365, 5000, [
            ("إصدار رخصة صيد أسماك", "Issue a fishing licence"),
            ("تجديد رخصة صيد أسماك", "Renew a fishing licence"),
            ("بدل فاقد رخصة صيد أسماك", "Replace a lost fishing licence"),
            ("رخصة صيد الروبيان", "Shrimp fishing licence"),
            ("رخصة صيد ترفيهي", "Recreational fishing licence"),
            ("رخصة بيع الأسماك بالجملة", "Wholesale fish trading licence")]),
        ("fishing-boats", "قوارب الصيد", "Fishing boats", "GBOT", "boat", "review", 365, 10000, [
            ("تسجيل قارب صيد", "Fishing boat registration"),
            ("تجديد تسجيل قارب صيد", "Renew a fishing boat registration"),
            ("نقل ملكية قارب صيد", "Fishing boat ownership transfer"),
            ("رخصة ربان قارب صيد", "Fishing boat skipper licence"),
            ("شهادة صلاحية قارب للإبحار", "Boat seaworthiness certificate"),
            ("إلغاء تسجيل قارب صيد", "Cancel a fishing boat registration")]),
        ("agricultural-land", "الأراضي الزراعية", "Agricultural land", "GLND", "farm", "review",
         365, 5000, [
            ("تسجيل حيازة زراعية", "Agricultural holding registration"),
            ("رخصة حفر بئر زراعية", "Agricultural well drilling permit"),
            ("طلب دعم بذور وشتلات", "Seeds and seedlings subsidy request"),
            ("رخصة إقامة بيت محمي", "Greenhouse construction permit"),
            ("شهادة إنتاج زراعي", "Agricultural produce certificate"),
            ("طلب زيارة إرشاد زراعي", "Agricultural extension visit request")]),
        ("aquaculture", "الاستزراع السمكي", "Aquaculture", "GAQU", "farm", "review", 365,
         20000, [
            ("رخصة مزرعة أسماك", "Fish farm licence"),
            ("تجديد رخصة مزرعة أسماك", "Renew a fish farm licence"),
            ("رخصة أقفاص استزراع بحري", "Marine cage farming licence"),
            ("إذن استيراد إصبعيات أسماك", "Fish fingerling import permit"),
            ("شهادة صحية للأحياء المائية", "Aquatic animal health certificate"),
            ("رخصة مفقس أسماك", "Fish hatchery licence")]),
    ],
}

_HOLDER = [
    {"key": "full_name", "type": "text", "label": {"ar": "الاسم الكامل", "en": "Full name"},
     "max_length": 100},
    {"key": "national_id", "type": "national_id",
     "label": {"ar": "الرقم الشخصي", "en": "National ID (CPR)"}},
    {"key": "phone", "type": "phone", "label": {"ar": "رقم الهاتف", "en": "Phone number"}},
]
_ADDRESS = [
    {"key": "block", "type": "block", "label": {"ar": "المجمع", "en": "Block"}},
    {"key": "road", "type": "road", "label": {"ar": "الطريق", "en": "Road"}},
    {"key": "building", "type": "building", "label": {"ar": "المبنى", "en": "Building"}},
]
_PARCEL = {"key": "parcel", "type": "text", "max_length": 20,
           "label": {"ar": "رقم العقار", "en": "Parcel number"}}
_SMART_CARD = {"key": "smart_card", "ar": "البطاقة الذكية (الهوية)", "en": "Smart card (ID)",
               "at_kiosk": True}
# Each shape: the fields after the holder's, and the documents after the smart card.
SHAPES = {
    "address": (_ADDRESS, [{"key": "lease_or_deed", "ar": "عقد الإيجار أو وثيقة ملكية العقار",
                            "en": "Lease contract or title deed"}]),
    "parcel": ([_PARCEL, *_ADDRESS,
                {"key": "area_m2", "type": "area_m2",
                 "label": {"ar": "المساحة (م²)", "en": "Area (m²)"}}],
               [{"key": "title_deed", "ar": "وثيقة ملكية العقار", "en": "Title deed",
                 "required": True, "at_kiosk": True},
                {"key": "drawing", "ar": "المخطط الهندسي المعتمد",
                 "en": "Approved engineering drawing", "required": True}]),
    "assessed": ([_PARCEL, {"key": "assessed_amount", "type": "money", "min_exclusive": 0,
                            "label": {"ar": "المبلغ المستحق", "en": "Amount due"}}],
                 [{"key": "notice", "ar": "إشعار المطالبة", "en": "Notice of the amount due"}]),
    "commercial": ([{"key": "commercial_registration", "type": "text", "max_length": 20,
                     "label": {"ar": "رقم السجل التجاري",
                               "en": "Commercial registration number"}}, *_ADDRESS],
                   [{"key": "cr_copy", "ar": "نسخة السجل التجاري",
                     "en": "Commercial registration copy", "required": True}]),
    "boat": ([{"key": "boat_registration", "type": "text", "max_length": 20,
               "label": {"ar": "رقم تسجيل القارب", "en": "Boat registration number"}},
              {"key": "home_port", "type": "choice",
               "label": {"ar": "ميناء القارب", "en": "Home port"},
               "options": [{"value": "north", "ar": "الميناء الشمالي", "en": "North harbour"},
                           {"value": "south", "ar": "الميناء الجنوبي", "en": "South harbour"},
                           {"value": "east", "ar": "الميناء الشرقي", "en": "East harbour"}]}],
             [{"key": "boat_papers", "ar": "وثيقة تسجيل القارب", "en": "Boat registration papers",
               "required": True, "at_kiosk": True}]),
    "farm": ([{"key": "farm_number", "type": "text", "max_length": 20,
               "label": {"ar": "رقم المزرعة", "en": "Farm number"}},
              {"key": "block", "type": "block", "label": {"ar": "المجمع", "en": "Block"}},
              {"key": "farm_area_m2", "type": "area_m2",
               "label": {"ar": "مساحة المزرعة (م²)", "en": "Farm area (m²)"}}],
             [{"key": "holding_card", "ar": "بطاقة الحيازة الزراعية",
               "en": "Agricultural holding card", "required": True}]),
}


def code_of(name_en: str) -> str:
    """"Issue a shop licence" -> "issue-a-shop-licence" (core.catalog.CODE_RE)."""
    return re.sub(r"[^a-z0-9]+", "-", name_en.lower()).strip("-")[:64].rstrip("-")


def _shipped() -> list[dict]:
    return [tomllib.loads(p.read_text(encoding="utf-8"))
            for p in sorted(DEFAULT_CATALOG_DIR.glob("*.toml"))]


def services_108() -> list[dict]:
    """The 108 services as catalogue settings: the shipped eight, then each sector's
    categories in order. Fees vary within a category by a fixed step, so totals differ."""
    shipped = _shipped()
    out = list(shipped)
    for sector, (sector_ar, sector_en, letters) in SECTORS.items():
        prefixes = (a + b for a in letters for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for (cat, cat_ar, cat_en, licence_type, shape, issue, validity, fee,
             names) in CATEGORIES[sector]:
            fields, documents = SHAPES[shape]
            for i, (name_ar, name_en) in enumerate(names):
                raw = {"code": code_of(name_en), "prefix": next(prefixes),
                       "name": {"ar": name_ar, "en": name_en},
                       "sector": {"code": sector, "ar": sector_ar, "en": sector_en},
                       "category": {"code": cat, "ar": cat_ar, "en": cat_en},
                       "issue": issue, "licence_type": licence_type, "validity_days": validity,
                       "fee": ({"amount": fee + 500 * (i % 3), "currency": "BHD"} if fee
                               else {"amount": 0, "currency": "BHD",
                                     "from_field": "assessed_amount"}),
                       "documents": [_SMART_CARD, *documents],
                       "fields": [*_HOLDER, *fields]}
                out.append(raw)
    assert len(out) == 108, len(out)
    return out


def write_catalog_108(directory: str | Path) -> Path:
    """Write the 108 services as catalogue files (NNN-code.toml, loaded in this order)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(services_108(), start=1):
        (directory / f"{i:03d}-{raw['code']}.toml").write_text(to_toml(raw), encoding="utf-8")
    return directory


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(type(v))


def to_toml(raw: dict) -> str:
    """Catalogue settings as a catalogue file: plain settings first, then each list of
    tables ([[documents]], [[fields]]) written out as the shipped files are."""
    tables = {k: v for k, v in raw.items() if k in ("documents", "fields")}
    lines = [f"{k} = {_value(v)}" for k, v in raw.items() if k not in tables]
    for key, entries in tables.items():
        for entry in entries:
            lines += ["", f"[[{key}]]", *(f"{k} = {_value(v)}" for k, v in entry.items())]
    return "\n".join(lines) + "\n"
