"""Every string the console shows, Arabic first, with its English. Templates call
`t("key")` (the page's language) or `t("key", name=...)` for a {name} placeholder; a key
missing here fails loudly (KeyError) so a test catches it. One entry per key: {"ar", "en"}."""
from __future__ import annotations

from jinja2 import pass_context

LANGUAGES = ("ar", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app.name": {"ar": "نافذة", "en": "Nafitha"},
    "app.console": {"ar": "لوحة تحكم البلدية", "en": "Municipal console"},
    "app.skip": {"ar": "انتقل إلى المحتوى", "en": "Skip to content"},
    "lang.ar": {"ar": "العربية", "en": "العربية"},
    "lang.en": {"ar": "English", "en": "English"},
    "nav.label": {"ar": "القائمة الرئيسية", "en": "Main menu"},
    "nav.home": {"ar": "الرئيسية", "en": "Home"},
    "nav.applications": {"ar": "الطلبات", "en": "Applications"},
    "nav.licences": {"ar": "الرخص", "en": "Licences"},
    "nav.catalogue": {"ar": "دليل الخدمات", "en": "Catalogue"},
    "nav.offices": {"ar": "المكاتب", "en": "Offices"},
    "nav.staff": {"ar": "الموظفون", "en": "Staff"},
    "nav.municipalities": {"ar": "البلديات", "en": "Municipalities"},
    "nav.api_keys": {"ar": "مفاتيح الواجهة البرمجية", "en": "API keys"},
    "nav.audit": {"ar": "سجل التدقيق", "en": "Audit log"},
    "nav.account": {"ar": "حسابي", "en": "My account"},
    "header.language": {"ar": "اللغة", "en": "Language"},
    "header.switch": {"ar": "تغيير", "en": "Change"},
    "header.sign_out": {"ar": "تسجيل الخروج", "en": "Sign out"},
    "header.national": {"ar": "كل البلديات", "en": "All municipalities"},
    "role.officer": {"ar": "موظف ترخيص", "en": "Licensing officer"},
    "role.operations": {"ar": "العمليات", "en": "Operations"},
    "role.finance": {"ar": "المالية", "en": "Finance"},
    "role.admin": {"ar": "مدير النظام", "en": "Administrator"},
    "role.auditor": {"ar": "مدقق", "en": "Auditor"},
    "common.yes": {"ar": "نعم", "en": "Yes"},
    "common.no": {"ar": "لا", "en": "No"},
    "common.save": {"ar": "حفظ", "en": "Save"},
    "common.back": {"ar": "رجوع إلى الرئيسية", "en": "Back to home"},
    "common.actions": {"ar": "إجراءات", "en": "Actions"},
    "common.status": {"ar": "الحالة", "en": "Status"},
    "common.done": {"ar": "تم الحفظ.", "en": "Saved."},
    "common.never": {"ar": "لم يُستخدم", "en": "never"},
    "common.none": {"ar": "لا يوجد", "en": "none"},
    "sign_in.title": {"ar": "تسجيل الدخول", "en": "Sign in"},
    "sign_in.intro": {"ar": "للموظفين المخوّلين فقط. يُسجَّل كل إجراء باسمك.",
                      "en": "For authorised staff only. Every action is recorded in your "
                            "name."},
    "sign_in.username": {"ar": "اسم المستخدم", "en": "Username"},
    "sign_in.password": {"ar": "كلمة المرور", "en": "Password"},
    "sign_in.submit": {"ar": "دخول", "en": "Sign in"},
    "sign_in.signed_out": {"ar": "تم تسجيل خروجك.", "en": "You are signed out."},
    "totp.title": {"ar": "التحقق بخطوتين", "en": "Two-step verification"},
    "totp.hint": {"ar": "أدخل الرمز المكوّن من ستة أرقام الظاهر الآن في تطبيق المصادقة على "
                        "هاتفك.",
                  "en": "Enter the six-digit code your phone's authenticator app shows now."},
    "totp.code": {"ar": "رمز التحقق", "en": "Verification code"},
    "totp.submit": {"ar": "تحقق", "en": "Verify"},
    "enrol.title": {"ar": "إعداد التحقق بخطوتين", "en": "Set up two-step verification"},
    "enrol.intro": {"ar": "يتطلب حسابك عاملًا ثانيًا قبل أي إجراء آخر. امسح الرمز بتطبيق "
                          "المصادقة على هاتفك، أو أدخل المفتاح يدويًا، ثم اكتب الرمز الذي "
                          "يظهر.",
                    "en": "Your account needs a second factor before anything else. Scan the "
                          "code with your phone's authenticator app, or type the key in, then "
                          "enter the code it shows."},
    "enrol.qr": {"ar": "رمز QR لإضافة الحساب إلى تطبيق المصادقة",
                 "en": "QR code that adds the account to an authenticator app"},
    "enrol.secret": {"ar": "المفتاح (للإدخال اليدوي)", "en": "Key (to type in)"},
    "home.title": {"ar": "الرئيسية", "en": "Home"},
    "home.welcome": {"ar": "مرحبًا، {name}.", "en": "Welcome, {name}."},
    "home.intro": {"ar": "اختر من القائمة ما تريد العمل عليه.",
                   "en": "Choose what to work on from the menu."},
    "error.title": {"ar": "تعذّر إكمال الطلب", "en": "The request could not be completed"},
    "error.forbidden": {"ar": "ليست لديك صلاحية لهذه الصفحة أو لهذا الإجراء.",
                        "en": "Your role does not allow this page or action."},
    "error.csrf": {"ar": "لم يُقبل النموذج: رمز الحماية مفقود أو غير صحيح، ولم يتغيّر شيء. "
                         "افتح الصفحة من جديد وأعد المحاولة.",
                   "en": "The form was refused: its security token is missing or wrong, and "
                         "nothing was changed. Open the page again and retry."},
    "error.not_found": {"ar": "الصفحة أو العنصر المطلوب غير موجود.",
                        "en": "There is no such page or item."},
    "error.bad_request": {"ar": "الطلب غير صالح.", "en": "The request is not valid."},
    "error.wrong_credentials": {"ar": "اسم المستخدم أو كلمة المرور غير صحيحة.",
                                "en": "The username or the password is not right."},
    "error.locked": {"ar": "الحساب مقفل بسبب محاولات فاشلة متكررة حتى الساعة {until} بالتوقيت "
                           "العالمي. حاول بعد ذلك أو اطلب المساعدة من مدير النظام.",
                     "en": "Too many failed attempts: the account is locked until {until} "
                           "UTC. Try again then, or ask an administrator."},
    "error.wrong_code": {"ar": "الرمز غير صحيح أو سبق استخدامه. انتظر الرمز التالي وأعد "
                               "المحاولة.",
                         "en": "The code is not right, or was used already. Wait for the next "
                               "code and retry."},
    "error.weak_password": {"ar": "يجب ألا تقل كلمة المرور عن 12 حرفًا وألا تكون هي اسم "
                                  "المستخدم.",
                            "en": "A password needs at least 12 characters and must not be "
                                  "the username."},
    "error.wrong_password": {"ar": "كلمة المرور الحالية غير صحيحة.",
                             "en": "The current password is not right."},
    "error.invalid_full_name": {"ar": "الاسم الكامل: من حرف واحد إلى 100 حرف، دون رموز تحكم "
                                      "أو رموز تغيير اتجاه النص.",
                                "en": "Full name: 1 to 100 characters, without control or "
                                      "text-direction characters."},
    "error.invalid_username": {"ar": "اسم المستخدم: من حرفين إلى 32 حرفًا لاتينيًا صغيرًا "
                                     "يبدأ بحرف، ويجوز فيه الأرقام و . و _ و -.",
                               "en": "Username: 2-32 characters, a small letter first, then "
                                     "small letters, digits, '.', '_' or '-'."},
    "error.invalid_role": {"ar": "الدور غير معروف.", "en": "Unknown role."},
    "error.invalid_language": {"ar": "اللغة: العربية أو الإنجليزية.",
                               "en": "Language: Arabic or English."},
    "error.staff_exists": {"ar": "يوجد موظف بهذا الاسم من قبل.",
                           "en": "There is already a member of staff with this username."},
    "error.unknown_staff": {"ar": "لا يوجد موظف بهذا الاسم.",
                            "en": "There is no such member of staff."},
    "error.own_account": {"ar": "لا يمكنك تعطيل حسابك.",
                          "en": "You cannot disable your own account."},
    "error.other_municipality": {"ar": "تدير موظفي بلديتك ومفاتيحها فقط.",
                                 "en": "You manage only your own municipality's staff and "
                                       "keys."},
    "error.unknown_municipality": {"ar": "البلدية غير موجودة. أضفها أولًا.",
                                   "en": "There is no such municipality: add it first."},
    "error.invalid_municipality": {"ar": "رمز البلدية: من 1 إلى 8 أحرف لاتينية كبيرة أو "
                                         "أرقام.",
                                   "en": "Municipality code: 1-8 capital letters or digits."},
    "error.municipality_exists": {"ar": "توجد بلدية بهذا الرمز من قبل.",
                                  "en": "There is already a municipality with this code."},
    "error.invalid_office": {"ar": "رمز المكتب: من 1 إلى 8 أحرف لاتينية كبيرة أو أرقام.",
                             "en": "Office code: 1-8 capital letters or digits."},
    "error.national_only": {"ar": "هذا الإجراء لموظفي المستوى الوطني فقط.",
                            "en": "Only national staff may do this."},
    "error.invalid_key_name": {"ar": "اسم المفتاح: من 1 إلى 40 حرفًا لاتينيًا صغيرًا أو "
                                     "رقمًا، ويجوز فيه . و _ و -.",
                               "en": "Key name: 1-40 small letters, digits, '.', '_' or "
                                     "'-'."},
    "error.key_exists": {"ar": "يوجد مفتاح بهذا الاسم من قبل.",
                         "en": "There is already a key with this name."},
    "error.unknown_key": {"ar": "لا يوجد مفتاح بهذا الاسم.", "en": "There is no such key."},
    "error.key_revoked": {"ar": "المفتاح ملغى من قبل.", "en": "The key is already revoked."},
    "error.has_second_factor": {"ar": "التحقق بخطوتين مُعدّ من قبل.",
                                "en": "Two-step verification is already set up."},
    "error.no_second_factor": {"ar": "أعدّ التحقق بخطوتين أولًا.",
                               "en": "Set up two-step verification first."},
    "staff.title": {"ar": "الموظفون", "en": "Staff"},
    "staff.username": {"ar": "اسم المستخدم", "en": "Username"},
    "staff.full_name": {"ar": "الاسم الكامل", "en": "Full name"},
    "staff.role": {"ar": "الدور", "en": "Role"},
    "staff.municipality": {"ar": "البلدية", "en": "Municipality"},
    "staff.language": {"ar": "لغة الواجهة", "en": "Console language"},
    "staff.national": {"ar": "المستوى الوطني (كل البلديات)",
                       "en": "National (every municipality)"},
    "staff.password": {"ar": "كلمة المرور الأولى (12 حرفًا على الأقل)",
                       "en": "First password (at least 12 characters)"},
    "staff.add": {"ar": "إضافة موظف", "en": "Add a member of staff"},
    "staff.active": {"ar": "نشط", "en": "Active"},
    "staff.disabled": {"ar": "معطّل", "en": "Disabled"},
    "staff.locked": {"ar": "مقفل حتى {until}", "en": "Locked until {until}"},
    "staff.totp": {"ar": "التحقق بخطوتين", "en": "Two-step"},
    "staff.disable": {"ar": "تعطيل", "en": "Disable"},
    "staff.new_password": {"ar": "كلمة مرور جديدة لـ {name}", "en": "New password for {name}"},
    "staff.reset_password": {"ar": "تعيين كلمة المرور", "en": "Set password"},
    "staff.reset_totp": {"ar": "إعادة ضبط التحقق بخطوتين", "en": "Reset two-step"},
    "muni.title": {"ar": "البلديات", "en": "Municipalities"},
    "muni.code": {"ar": "الرمز", "en": "Code"},
    "muni.name_ar": {"ar": "الاسم بالعربية", "en": "Name in Arabic"},
    "muni.name_en": {"ar": "الاسم بالإنجليزية", "en": "Name in English"},
    "muni.offices": {"ar": "المكاتب", "en": "Offices"},
    "muni.add": {"ar": "إضافة بلدية", "en": "Add a municipality"},
    "muni.assign": {"ar": "إسناد مكتب إلى بلدية", "en": "Give an office to a municipality"},
    "muni.office": {"ar": "رمز المكتب", "en": "Office code"},
    "muni.assign_submit": {"ar": "إسناد", "en": "Assign"},
    "muni.unassigned": {"ar": "مكاتب غير مسندة", "en": "Offices not yet assigned"},
    "keys.title": {"ar": "مفاتيح الواجهة البرمجية", "en": "API keys"},
    "keys.intro": {"ar": "مفاتيح مسمّاة للأنظمة والسكربتات، لكل منها دور وبلدية.",
                   "en": "Named keys for systems and scripts, each with a role and a "
                         "municipality."},
    "keys.name": {"ar": "اسم المفتاح", "en": "Key name"},
    "keys.created": {"ar": "أُنشئ", "en": "Created"},
    "keys.last_used": {"ar": "آخر استخدام", "en": "Last used"},
    "keys.revoked": {"ar": "ملغى منذ {at}", "en": "Revoked {at}"},
    "keys.revoke": {"ar": "إلغاء", "en": "Revoke"},
    "keys.add": {"ar": "إنشاء مفتاح", "en": "Create a key"},
    "keys.shown_once": {"ar": "هذا هو المفتاح. انسخه الآن واحفظه في مكان آمن: لن يظهر مرة "
                              "أخرى.",
                        "en": "This is the key. Copy it now and keep it safe: it will not be "
                              "shown again."},
    "keys.secret": {"ar": "المفتاح {name}", "en": "Key {name}"},
    "audit.title": {"ar": "سجل التدقيق", "en": "Audit log"},
    "audit.at": {"ar": "الوقت (UTC)", "en": "Time (UTC)"},
    "audit.actor": {"ar": "المنفِّذ", "en": "By"},
    "audit.action": {"ar": "الإجراء", "en": "Action"},
    "audit.entity": {"ar": "العنصر", "en": "Item"},
    "audit.detail": {"ar": "التفاصيل", "en": "Detail"},
    "audit.older": {"ar": "الأقدم", "en": "Older"},
    "audit.empty": {"ar": "لا توجد سجلات.", "en": "Nothing recorded."},
    "account.title": {"ar": "حسابي", "en": "My account"},
    "account.password": {"ar": "تغيير كلمة المرور", "en": "Change password"},
    "account.current": {"ar": "كلمة المرور الحالية", "en": "Current password"},
    "account.new": {"ar": "كلمة المرور الجديدة (12 حرفًا على الأقل)",
                    "en": "New password (at least 12 characters)"},
    "account.changed": {"ar": "تم تغيير كلمة المرور، وأُنهيت جلساتك الأخرى.",
                        "en": "Password changed; your other sessions were ended."},
    # --- applications and licences pages (central/console/applications.py, licences.py) -----
    "apps.title": {"ar": "الطلبات بانتظار القرار", "en": "Applications awaiting a decision"},
    "apps.scope": {"ar": "النطاق: {scope}", "en": "Scope: {scope}"},
    "apps.filter": {"ar": "تصفية القائمة", "en": "Filter the list"},
    "apps.office": {"ar": "المكتب", "en": "Office"},
    "apps.service": {"ar": "الخدمة", "en": "Service"},
    "apps.all": {"ar": "الكل", "en": "All"},
    "apps.older": {"ar": "أقدم من (أيام)", "en": "Older than (days)"},
    "apps.apply": {"ar": "تطبيق", "en": "Apply"},
    "apps.clear": {"ar": "إظهار القائمة كاملة", "en": "Show the whole list"},
    "apps.search": {"ar": "بحث", "en": "Search"},
    "apps.search_label": {"ar": "رقم الطلب أو الرقم الشخصي أو الاسم",
                          "en": "Application number, national ID or name"},
    "apps.search_submit": {"ar": "ابحث", "en": "Search"},
    "apps.results": {"ar": "نتائج البحث: {n}", "en": "Search results: {n}"},
    "apps.caption": {"ar": "الأقدم أولًا", "en": "Oldest first"},
    "apps.number": {"ar": "رقم الطلب", "en": "Application number"},
    "apps.applicant": {"ar": "مقدّم الطلب", "en": "Applicant"},
    "apps.submitted": {"ar": "تاريخ التقديم", "en": "Submitted"},
    "apps.waiting": {"ar": "مدة الانتظار", "en": "Waiting"},
    "apps.days.0": {"ar": "أقل من يوم", "en": "under a day"},
    "apps.days.1": {"ar": "يوم واحد", "en": "1 day"},
    "apps.days.2": {"ar": "يومان", "en": "2 days"},
    "apps.days.few": {"ar": "{n} أيام", "en": "{n} days"},
    "apps.days.many": {"ar": "{n} يومًا", "en": "{n} days"},
    "apps.fee": {"ar": "الرسوم", "en": "Fee"},
    "apps.paid": {"ar": "مدفوعة", "en": "Paid"},
    "apps.unpaid": {"ar": "غير مدفوعة", "en": "Not paid"},
    "apps.erased": {"ar": "بيانات محذوفة", "en": "Data erased"},
    "apps.empty": {"ar": "لا توجد طلبات بانتظار القرار.",
                   "en": "No application is waiting for a decision."},
    "apps.next": {"ar": "الصفحة التالية", "en": "Next page"},
    "apps.bad_age": {"ar": "«أقدم من»: عدد أيام من 0 إلى 3650.",
                     "en": "\"Older than\": a number of days, 0 to 3650."},
    "apps.bad_text": {"ar": "النص: سطر واحد لا يتجاوز {limit} حرفًا، دون رموز تحكم أو رموز "
                            "تغيير اتجاه النص. لم يتغيّر شيء.",
                      "en": "The text: one line of at most {limit} characters, without control "
                            "or text-direction characters. Nothing was changed."},
    "apps.bad_decision": {"ar": "القرار: موافقة أو رفض.", "en": "The decision: approve or "
                                                               "reject."},
    "apps.already_decided": {"ar": "سبق اتخاذ قرار في هذا الطلب ({at})، ولم يتغيّر شيء.",
                             "en": "This application was already decided ({at}); nothing was "
                                   "changed."},
    "apps.not_open": {"ar": "لا يمكن البت في هذا الطلب: حالته في المكتب «{state}». لم يتغيّر "
                            "شيء.",
                      "en": "This application can no longer be decided: the office has it as "
                            "\"{state}\". Nothing was changed."},
    "apps.state.draft": {"ar": "مسودة", "en": "Draft"},
    "apps.state.submitted": {"ar": "مقدَّم", "en": "Submitted"},
    "apps.state.paid": {"ar": "مدفوع", "en": "Paid"},
    "apps.state.approved": {"ar": "موافَق عليه", "en": "Approved"},
    "apps.state.issued": {"ar": "صدرت الرخصة", "en": "Licence issued"},
    "apps.state.rejected": {"ar": "مرفوض", "en": "Rejected"},
    "apps.state.withdrawn": {"ar": "ملغى", "en": "Cancelled"},
    "apps.event.application.drafted": {"ar": "حُفظت مسودة", "en": "Draft saved"},
    "apps.event.application.submitted": {"ar": "قُدِّم الطلب", "en": "Submitted"},
    "apps.event.application.approved": {"ar": "وافق المكتب", "en": "Approved at the office"},
    "apps.event.application.rejected": {"ar": "رفض المكتب", "en": "Rejected at the office"},
    "apps.event.application.withdrawn": {"ar": "أُلغي الطلب", "en": "Cancelled"},
    "apps.event.payment.taken": {"ar": "دُفعت الرسوم", "en": "Fee paid"},
    "apps.event.payment.voided": {"ar": "أُلغي الإيصال", "en": "Receipt voided"},
    "apps.event.licence.issued": {"ar": "صدرت الرخصة", "en": "Licence issued"},
    "apps.event.licence.reprinted": {"ar": "أُعيدت طباعة الرخصة", "en": "Licence reprinted"},
    "apps.event.licence.revoked": {"ar": "أُلغيت الرخصة", "en": "Licence revoked"},
    "apps.method.cash": {"ar": "نقدًا", "en": "Cash"},
    "apps.method.card": {"ar": "بطاقة", "en": "Card"},
    "apps.method.online": {"ar": "دفع إلكتروني", "en": "Online"},
    "appl.title": {"ar": "الطلب {number}", "en": "Application {number}"},
    "appl.heading": {"ar": "الطلب", "en": "Application"},
    "appl.back": {"ar": "العودة إلى الطلبات", "en": "Back to the applications"},
    "appl.done_approved": {"ar": "تمت الموافقة. سيطبّقها المكتب عند مزامنته التالية.",
                           "en": "Approved. The office applies it at its next sync."},
    "appl.done_rejected": {"ar": "تم الرفض. سيطبّقه المكتب عند مزامنته التالية.",
                           "en": "Rejected. The office applies it at its next sync."},
    "appl.summary": {"ar": "الملخص", "en": "Summary"},
    "appl.payment": {"ar": "الدفع", "en": "Payment"},
    "appl.paid_at": {"ar": "مدفوعة في {at}", "en": "Paid {at}"},
    "appl.licence": {"ar": "الرخصة", "en": "Licence"},
    "appl.no_licence": {"ar": "لم تصدر بعد", "en": "Not issued yet"},
    "appl.decision": {"ar": "قرار البلدية", "en": "The municipality's decision"},
    "appl.decision_state": {"ar": "القرار", "en": "Decision"},
    "appl.decided_by": {"ar": "بواسطة", "en": "By"},
    "appl.decided_at": {"ar": "في", "en": "At"},
    "appl.conditions": {"ar": "شروط الرخصة", "en": "Licence conditions"},
    "appl.reason": {"ar": "السبب", "en": "Reason"},
    "appl.reached": {"ar": "وصل القرار إلى المكتب في {at}.",
                     "en": "Reached the office at {at}."},
    "appl.not_reached": {"ar": "بانتظار مزامنة المكتب.", "en": "Waiting for the office to "
                                                            "sync."},
    "appl.instant": {"ar": "خدمة فورية: الدفع يعني الموافقة، ولا تحتاج إلى قرار.",
                     "en": "An instant service: paying approves it; no decision is needed."},
    "appl.awaiting": {"ar": "لم يُتخذ قرار بعد.", "en": "No decision yet."},
    "appl.closed_at_office": {"ar": "أُغلق الطلب في المكتب دون قرار من البلدية.",
                              "en": "The office closed this application without a decision "
                                    "from central."},
    "appl.approve_title": {"ar": "الموافقة", "en": "Approve"},
    "appl.conditions_label": {"ar": "شروط الرخصة (اختياري، سطر واحد، حتى {n} حرف)",
                              "en": "Licence conditions (optional, one line, up to {n} "
                                    "characters)"},
    "appl.conditions_hint": {"ar": "تُطبع على الرخصة كما تُكتب هنا.",
                             "en": "Printed on the licence as typed here."},
    "appl.approve": {"ar": "موافقة", "en": "Approve"},
    "appl.reject_title": {"ar": "الرفض", "en": "Reject"},
    "appl.reason_label": {"ar": "سبب الرفض (مطلوب، سطر واحد، حتى {n} حرف)",
                          "en": "Reason for rejecting (required, one line, up to {n} "
                                "characters)"},
    "appl.reason_hint": {"ar": "يُبلَّغ به مقدّم الطلب.", "en": "The resident is shown it."},
    "appl.reject": {"ar": "رفض", "en": "Reject"},
    "appl.fields": {"ar": "بيانات الطلب", "en": "What the resident filled in"},
    "appl.erased": {"ar": "حُذفت البيانات الشخصية لمقدّم الطلب بناءً على طلبه.",
                    "en": "The resident's personal data was erased at their request."},
    "appl.no_fields": {"ar": "لا تتوفر البيانات لدى البلدية.",
                       "en": "Central cannot read these fields."},
    "appl.receipts": {"ar": "الإيصالات", "en": "Receipts"},
    "appl.receipt": {"ar": "رقم الإيصال", "en": "Receipt number"},
    "appl.method": {"ar": "طريقة الدفع", "en": "Method"},
    "appl.amount": {"ar": "المبلغ", "en": "Amount"},
    "appl.taken_at": {"ar": "وقت الدفع", "en": "Taken"},
    "appl.voided": {"ar": "ملغى ({at})", "en": "Voided ({at})"},
    "appl.valid_receipt": {"ar": "ساري", "en": "Valid"},
    "appl.no_receipts": {"ar": "لا توجد إيصالات.", "en": "No receipts."},
    "appl.history": {"ar": "السجل كما أبلغ عنه المكتب (الأقدم أولًا)",
                     "en": "History as the office reported it (oldest first)"},
    "appl.event": {"ar": "الحدث", "en": "Event"},
    "appl.at_office": {"ar": "الوقت في المكتب", "en": "At the office"},
    "appl.received": {"ar": "وصل إلى البلدية", "en": "Reached central"},
    "appl.device": {"ar": "الجهاز", "en": "Device"},
    "appl.by": {"ar": "الموظف", "en": "By"},
    "appl.refused": {"ar": "مرفوض", "en": "Refused"},
    "appl.no_history": {"ar": "لا توجد أحداث.", "en": "No events."},
    # --- supporting documents on the application page (issue 20) ------------------------------
    "apps.event.application.document_added": {"ar": "أُضيفت صفحة مستند",
                                              "en": "Document page added"},
    "apps.event.application.document_removed": {"ar": "حُذفت صفحة مستند",
                                                "en": "Document page removed"},
    "docs.title": {"ar": "المستندات المرفقة", "en": "Supporting documents"},
    "docs.none_asked": {"ar": "لا تطلب هذه الخدمة مستندات.",
                        "en": "This service asks for no documents."},
    "docs.required": {"ar": "مطلوب قبل القرار", "en": "Required before a decision"},
    "docs.optional": {"ar": "اختياري", "en": "Optional"},
    "docs.no_pages": {"ar": "لم تُرفق صفحات بعد.", "en": "No pages yet."},
    "docs.pages": {"ar": "الصفحات: {n}", "en": "Pages: {n}"},
    "docs.page_of": {"ar": "{name}، الصفحة {page}", "en": "{name}, page {page}"},
    "docs.open_page": {"ar": "عرض {name}، الصفحة {page}", "en": "View {name}, page {page}"},
    "docs.not_received": {"ar": "الصفحة {page}: لم تصل بعد من المكتب",
                          "en": "Page {page}: not received yet from the office"},
    "docs.erased": {"ar": "الصفحة {page}: حُذفت مع بيانات مقدّم الطلب",
                    "en": "Page {page}: deleted with the resident's data"},
    "docs.asked": {"ar": "طُلب في {at} من {by}: بانتظار المكتب",
                   "en": "Asked for on {at} by {by}: waiting for the office"},
    "docs.answered": {"ar": "طُلب في {at} من {by}، وأضافه المكتب في {done}",
                      "en": "Asked for on {at} by {by}; the office added it on {done}"},
    "docs.note": {"ar": "ملاحظة: {note}", "en": "Note: {note}"},
    "docs.ask_title": {"ar": "طلب مستند", "en": "Ask for a document"},
    "docs.ask_type": {"ar": "المستند", "en": "Document"},
    "docs.ask_note": {"ar": "ملاحظة للمكتب (اختياري، سطر واحد، حتى {n} حرف)",
                      "en": "A note for the office (optional, one line, up to {n} "
                            "characters)"},
    "docs.ask_hint": {"ar": "يظهر الطلب لموظف المكتب، ويبقى الطلب بانتظار المستند.",
                      "en": "The office's clerk is shown the request; the application waits "
                            "for the document."},
    "docs.ask": {"ar": "اطلب المستند", "en": "Ask for it"},
    "docs.asked_done": {"ar": "أُرسل الطلب إلى المكتب مع مزامنته التالية.",
                        "en": "The request goes to the office with its next sync."},
    "error.document_not_asked": {"ar": "هذه الخدمة لا تطلب هذا المستند. لم يُسجَّل شيء.",
                                 "en": "This service does not ask for that document. Nothing "
                                       "was recorded."},
    "error.invalid_doc_key": {"ar": "المستند غير معروف. اختر أحد المستندات التي تطلبها الخدمة. "
                                    "لم يُسجَّل شيء.",
                              "en": "Unknown document: choose one the service asks for. "
                                    "Nothing was recorded."},
    "error.already_requested": {"ar": "سبق طلب هذا المستند ولم يُضفه المكتب بعد. لم يُسجَّل "
                                      "شيء.",
                                "en": "This document was already asked for and the office has "
                                      "not added it yet. Nothing was recorded."},
    "docs.bad_note": {"ar": "الملاحظة: سطر واحد لا يتجاوز {limit} حرفًا، دون رموز تحكم أو "
                            "رموز تغيير اتجاه النص. لم يُسجَّل شيء.",
                      "en": "The note: one line of at most {limit} characters, without control "
                            "or text-direction characters. Nothing was recorded."},
    "docs.missing_required": {"ar": "لا يمكن الموافقة قبل أن تصل من المكتب صفحات المستندات "
                                    "المطلوبة: {names}. لم يتغيّر شيء، ويمكن الرفض.",
                              "en": "Cannot approve before the pages of the required documents "
                                    "have reached central: {names}. Nothing was changed; "
                                    "rejecting is still possible."},
    "docs.viewer": {"ar": "عارض المستندات", "en": "Document viewer"},
    "docs.position": {"ar": "الصفحة {n} من {of}", "en": "Page {n} of {of}"},
    "docs.previous": {"ar": "الصفحة السابقة", "en": "Previous page"},
    "docs.next": {"ar": "الصفحة التالية", "en": "Next page"},
    "docs.zoom_in": {"ar": "تكبير", "en": "Zoom in"},
    "docs.zoom_out": {"ar": "تصغير", "en": "Zoom out"},
    "docs.rotate": {"ar": "تدوير 90°", "en": "Rotate 90°"},
    "docs.close": {"ar": "إغلاق", "en": "Close"},
    "docs.zoom_level": {"ar": "التكبير: {p}٪", "en": "Zoom: {p}%"},
    "docs.keys": {"ar": "لوحة المفاتيح: الأسهم للتنقل بين الصفحات، + و − للتكبير والتصغير، "
                        "R للتدوير، Esc للإغلاق.",
                  "en": "Keyboard: arrows page through, + and − zoom, R rotates, Esc "
                        "closes."},
    "ops.documents": {"ar": "مستندات لم تُرفع بعد", "en": "Documents not yet uploaded"},
    "ops.documents_pending": {"ar": "عدد الملفات {files}، الحجم {size}",
                              "en": "files: {files}, size: {size}"},
    "ops.documents_none": {"ar": "لا شيء", "en": "none"},
    "size.bytes": {"ar": "{n} بايت", "en": "{n} bytes"},
    "size.kb": {"ar": "{n} ك.ب", "en": "{n} kB"},
    "size.mb": {"ar": "{n} م.ب", "en": "{n} MB"},
    "lic.title": {"ar": "الرخص", "en": "Licences"},
    "lic.search_label": {"ar": "رقم الرخصة أو رقم الطلب",
                         "en": "Licence number or application number"},
    "lic.caption": {"ar": "الأحدث إصدارًا أولًا", "en": "Newest issued first"},
    "lic.number": {"ar": "رقم الرخصة", "en": "Licence number"},
    "lic.type": {"ar": "نوع الرخصة", "en": "Type"},
    "lic.application": {"ar": "الطلب", "en": "Application"},
    "lic.issued": {"ar": "تاريخ الإصدار", "en": "Issued"},
    "lic.valid_until": {"ar": "سارية حتى", "en": "Valid until"},
    "lic.reprints": {"ar": "مرات إعادة الطباعة", "en": "Reprints"},
    "lic.status.valid": {"ar": "سارية", "en": "Valid"},
    "lic.status.revoked": {"ar": "ملغاة", "en": "Revoked"},
    "lic.status.expired": {"ar": "منتهية", "en": "Expired"},
    "lic.empty": {"ar": "لا توجد رخص.", "en": "No licences."},
    "lic.bad_status": {"ar": "الحالة: سارية أو ملغاة أو منتهية.",
                       "en": "Status: valid, revoked or expired."},
    "lic.page_title": {"ar": "الرخصة {number}", "en": "Licence {number}"},
    "lic.heading": {"ar": "الرخصة", "en": "Licence"},
    "lic.back": {"ar": "العودة إلى الرخص", "en": "Back to the licences"},
    "lic.done": {"ar": "أُلغيت الرخصة. ستصل قائمة الإلغاء إلى المكاتب عند مزامنتها التالية.",
                 "en": "Licence revoked. The offices get the revocation list at their next "
                       "sync."},
    "lic.revocation": {"ar": "الإلغاء", "en": "Revocation"},
    "lic.revoked_at": {"ar": "أُلغيت في", "en": "Revoked at"},
    "lic.not_revoked": {"ar": "الرخصة غير ملغاة.", "en": "The licence is not revoked."},
    "lic.reason_label": {"ar": "سبب الإلغاء (مطلوب، سطر واحد، حتى {n} حرف)",
                         "en": "Reason for revoking (required, one line, up to {n} "
                               "characters)"},
    "lic.reason_hint": {"ar": "يظهر لكل من يتحقق من الرخصة. لا يمكن التراجع عن الإلغاء.",
                        "en": "Shown to whoever checks the licence. A revocation cannot be "
                              "undone."},
    "lic.revoke": {"ar": "إلغاء الرخصة", "en": "Revoke the licence"},
    "lic.already_revoked": {"ar": "هذه الرخصة ملغاة من قبل، ولم يتغيّر شيء.",
                            "en": "This licence is already revoked; nothing was changed."},
    "lic.reason_required": {"ar": "يلزم ذكر سبب الإلغاء. لم يتغيّر شيء.",
                            "en": "A revocation needs a reason. Nothing was changed."},
    "error.reason_required": {"ar": "يلزم ذكر سبب (سطر واحد). لم يتغيّر شيء.",
                              "en": "A reason is needed (one line). Nothing was changed."},
    "error.invalid_reason": {"ar": "السبب: سطر واحد لا يتجاوز 500 حرف.",
                             "en": "The reason: one line of at most 500 characters."},
    "error.invalid_conditions": {"ar": "الشروط: سطر واحد لا يتجاوز 300 حرف.",
                                 "en": "The conditions: one line of at most 300 characters."},
    "error.conditions_too_long": {"ar": "هذه الشروط لا تتسع على الرخصة المطبوعة على أضيق ورق. "
                                        "اختصرها (الحرف العربي يُحسب بحرفين).",
                                  "en": "These conditions do not fit on a licence printed on "
                                        "the narrowest paper: shorten them (an Arabic letter "
                                        "counts as two)."},
    "error.already_decided": {"ar": "سبق البت في هذا الطلب أو لم يعد مفتوحًا. لم يتغيّر شيء.",
                              "en": "This application is already decided or no longer open. "
                                    "Nothing was changed."},
    "error.not_for_review": {"ar": "خدمة فورية: الدفع يعني الموافقة، ولا تحتاج إلى قرار.",
                             "en": "An instant service: paying approves it; no decision is "
                                   "needed."},
    "error.already_revoked": {"ar": "هذه الرخصة ملغاة من قبل، ولم يتغيّر شيء.",
                              "en": "This licence is already revoked; nothing was changed."},
    "error.personal_data_erased": {"ar": "حُذفت بيانات مقدّم الطلب، فلا يمكن إصدار رخصة بشروط "
                                         "له.",
                                   "en": "The resident's data was erased: a licence with "
                                         "conditions cannot be made for it."},
    "error.invalid_search": {"ar": "البحث: رقم أو رقم شخصي أو اسم (حتى 8 كلمات)، في سطر واحد "
                                   "لا يتجاوز 100 حرف.",
                             "en": "Search: a number, a national ID or a name (up to 8 "
                                   "words), one line of at most 100 characters."},
    "error.invalid_cursor": {"ar": "رابط الصفحة التالية غير صالح. افتح القائمة من جديد.",
                             "en": "The next-page link is not valid. Open the list again."},
    "error.invalid_service": {"ar": "رمز الخدمة غير صالح.", "en": "Not a service code."},
    "error.invalid_age": {"ar": "«أقدم من»: عدد أيام من 0 إلى 3650.",
                          "en": "\"Older than\": a number of days, 0 to 3650."},
    "error.invalid_status": {"ar": "الحالة: سارية أو ملغاة أو منتهية.",
                             "en": "Status: valid, revoked or expired."},
    # --- end of the applications and licences pages ------------------------------------------
    # --- operations: offices and devices, enrolment codes, revoking a device, the front page's
    # alerts and counts (central/console/offices.py, home.py; offices.html, enrol_code.html,
    # revoke_device.html, home.html's `home` block) ---------------------------------------------
    "age.now": {"ar": "أقل من دقيقة", "en": "less than a minute"},
    "age.ago": {"ar": "منذ {d}", "en": "{d} ago"},
    "age.ahead": {"ar": "متقدّمة بمقدار {d}", "en": "{d} ahead"},
    "age.behind": {"ar": "متأخّرة بمقدار {d}", "en": "{d} behind"},
    "age.in_step": {"ar": "مضبوطة", "en": "in step"},
    "age.minute.1": {"ar": "دقيقة واحدة", "en": "1 minute"},
    "age.minute.2": {"ar": "دقيقتين", "en": "2 minutes"},
    "age.minute.few": {"ar": "{n} دقائق", "en": "{n} minutes"},
    "age.minute.many": {"ar": "{n} دقيقة", "en": "{n} minutes"},
    "age.hour.1": {"ar": "ساعة واحدة", "en": "1 hour"},
    "age.hour.2": {"ar": "ساعتين", "en": "2 hours"},
    "age.hour.few": {"ar": "{n} ساعات", "en": "{n} hours"},
    "age.hour.many": {"ar": "{n} ساعة", "en": "{n} hours"},
    "age.day.1": {"ar": "يوم واحد", "en": "1 day"},
    "age.day.2": {"ar": "يومين", "en": "2 days"},
    "age.day.few": {"ar": "{n} أيام", "en": "{n} days"},
    "age.day.many": {"ar": "{n} يومًا", "en": "{n} days"},
    "age.day.hundred": {"ar": "{n} يوم", "en": "{n} days"},
    "live.updated": {"ar": "آخر تحديث: {at} بالتوقيت العالمي. تتحدّث الصفحة وحدها كل {s} ثانية.",
                     "en": "Last updated {at} UTC. The page updates itself every {s} seconds."},
    "live.pause": {"ar": "إيقاف التحديث التلقائي", "en": "Pause automatic updates"},
    "live.resume": {"ar": "استئناف التحديث التلقائي", "en": "Resume automatic updates"},
    "live.stale": {"ar": "تعذّر تحديث الصفحة (ربما انتهت الجلسة). أعد تحميلها.",
                   "en": "The page could not be updated (perhaps the session ended). Reload "
                         "it."},
    "ops.title": {"ar": "المكاتب والأجهزة", "en": "Offices and devices"},
    "ops.summary": {"ar": "المكاتب: {offices} · الأجهزة العاملة: {devices} · تحتاج إلى متابعة: "
                          "{trouble}",
                    "en": "Offices: {offices} · Devices in service: {devices} · Need "
                          "attention: {trouble}"},
    "ops.thresholds": {"ar": "يُعدّ الجهاز صامتًا بعد {silent} دون اتصال، وتُعدّ الأحداث "
                             "المنتظرة متأخرة بعد {backlog}، وفرق الساعة كبيرًا فوق {skew}.",
                       "en": "A device counts as silent after {silent} without contact, a "
                             "backlog as old after {backlog}, and a clock skew as large "
                             "above {skew}."},
    "ops.office": {"ar": "المكتب {office}", "en": "Office {office}"},
    "ops.municipality": {"ar": "البلدية: {m}", "en": "Municipality: {m}"},
    "ops.unassigned": {"ar": "غير مسند إلى بلدية", "en": "not yet given to a municipality"},
    "ops.no_devices": {"ar": "لا أجهزة مسجّلة في هذا المكتب.",
                       "en": "No device is enrolled at this office."},
    "ops.no_offices": {"ar": "لا مكاتب بعد.", "en": "No offices yet."},
    "ops.devices_of": {"ar": "أجهزة المكتب {office}", "en": "Devices of office {office}"},
    "ops.device": {"ar": "الجهاز", "en": "Device"},
    "ops.role": {"ar": "النوع", "en": "Kind"},
    "ops.contact": {"ar": "آخر اتصال", "en": "Last contact"},
    "ops.backlog": {"ar": "أحداث لم تصل", "en": "Backlog"},
    "ops.gaps": {"ar": "فجوات", "en": "Gaps"},
    "ops.clock": {"ar": "ساعة الجهاز", "en": "Device clock"},
    "ops.version": {"ar": "الإصدار", "en": "Version"},
    "ops.never": {"ar": "لم يتصل بعد", "en": "never"},
    "ops.unknown": {"ar": "غير معروف", "en": "unknown"},
    "ops.oldest": {"ar": "أقدمها {ago}", "en": "oldest {ago}"},
    "ops.missing": {"ar": "ناقص: {n} (التسلسل {ranges})", "en": "missing {n} (seq {ranges})"},
    "ops.enrolled": {"ar": "سُجّل {ago}", "en": "enrolled {ago}"},
    "ops.revoked_at": {"ar": "أُلغي {ago}", "en": "revoked {ago}"},
    "ops.revoke": {"ar": "إلغاء الجهاز", "en": "Revoke"},
    "ops.make_code": {"ar": "إنشاء رمز تسجيل جهاز", "en": "Make a device enrolment code"},
    "ops.make_code_for": {"ar": "رمز تسجيل لهذا المكتب", "en": "Enrolment code for this office"},
    "ops.revoked_done": {"ar": "أُلغي الجهاز {device}: لم يعد رمز دخوله يعمل.",
                         "en": "Device {device} is revoked: its token no longer works."},
    "device_role.hub": {"ar": "خادم المكتب", "en": "Office hub"},
    "device_role.counter": {"ar": "شباك", "en": "Counter"},
    "device_role.kiosk": {"ar": "كشك خدمة ذاتية", "en": "Kiosk"},
    "device_role.board": {"ar": "شاشة الانتظار", "en": "Queue board"},
    "badge.silent": {"ar": "صامت", "en": "Silent"},
    "badge.backlog_old": {"ar": "أحداث متأخرة", "en": "Backlog old"},
    "badge.skew": {"ar": "فرق في الساعة", "en": "Clock skew"},
    "badge.gaps": {"ar": "أحداث ناقصة", "en": "Missing events"},
    "badge.revoked": {"ar": "ملغى", "en": "Revoked"},
    "badge.ok": {"ar": "سليم", "en": "OK"},
    # The devices' heartbeats (central/fleet.py, docs/operations/health.md)
    "health.title": {"ar": "حالة الأجهزة", "en": "Device health"},
    "health.of": {"ar": "حالة أجهزة المكتب {office}", "en": "Device health of office {office}"},
    "health.none": {"ar": "لم يصل أي تقرير حالة من هذا المكتب بعد.",
                    "en": "No health report from this office yet."},
    "health.seen": {"ar": "آخر تقرير", "en": "Last report"},
    "health.printer": {"ar": "الطابعة", "en": "Printer"},
    "health.camera": {"ar": "الكاميرا", "en": "Camera"},
    "health.disk": {"ar": "المساحة الحرة", "en": "Disk free"},
    "health.backup": {"ar": "آخر نسخة احتياطية", "en": "Last backup"},
    "health.alerts": {"ar": "تنبيهات", "en": "Alerts"},
    "health.never": {"ar": "لا توجد", "en": "never"},
    "health.mb": {"ar": "{n} ميغابايت", "en": "{n} MB"},
    "health.alert_count": {"ar": "تنبيهات الأجهزة: {n}", "en": "Device alerts: {n}"},
    "health_role.kiosk": {"ar": "كشك خدمة ذاتية", "en": "Kiosk"},
    "health_role.counter": {"ar": "شباك", "en": "Counter"},
    "health_role.board": {"ar": "شاشة الانتظار", "en": "Queue board"},
    "health_role.hub": {"ar": "خادم المكتب", "en": "Office hub"},
    "health_role.agent": {"ar": "وكيل المزامنة", "en": "Sync agent"},
    "printer.ok": {"ar": "جاهزة", "en": "ready"},
    "printer.paper_low": {"ar": "الورق قارب على النفاد", "en": "paper low"},
    "printer.paper_out": {"ar": "نفد الورق", "en": "paper out"},
    "printer.cover_open": {"ar": "الغطاء مفتوح", "en": "cover open"},
    "printer.offline": {"ar": "غير متصلة", "en": "offline"},
    "printer.unknown": {"ar": "غير معروفة", "en": "unknown"},
    "printer.none": {"ar": "لا توجد", "en": "none"},
    "camera.ok": {"ar": "تعمل", "en": "working"},
    "camera.missing": {"ar": "غير موصولة", "en": "missing"},
    "camera.error": {"ar": "عطل", "en": "fault"},
    "camera.unknown": {"ar": "غير معروفة", "en": "unknown"},
    "camera.none": {"ar": "لا توجد", "en": "none"},
    "alert.silent": {"ar": "صامت منذ {d}", "en": "Silent for {d}"},
    "alert.disk_full": {"ar": "القرص ممتلئ", "en": "Disk full"},
    "alert.disk_low": {"ar": "القرص قارب على الامتلاء", "en": "Disk nearly full"},
    "alert.paper_out": {"ar": "نفد الورق", "en": "Paper out"},
    "alert.paper_low": {"ar": "الورق قارب على النفاد", "en": "Paper low"},
    "alert.cover_open": {"ar": "غطاء الطابعة مفتوح", "en": "Printer cover open"},
    "alert.printer_offline": {"ar": "الطابعة غير متصلة", "en": "Printer offline"},
    "alert.camera": {"ar": "الكاميرا لا تعمل", "en": "Camera not working"},
    "alert.no_backup": {"ar": "لا نسخة احتياطية منذ يوم", "en": "No backup for a day"},
    "alert.clock_wrong": {"ar": "ساعة الجهاز خاطئة ({skew})", "en": "Clock wrong ({skew})"},
    "enrol_code.title": {"ar": "رمز تسجيل جهاز", "en": "Device enrolment code"},
    "enrol_code.intro": {"ar": "يُدخَل الرمز مرة واحدة في الجهاز الجديد عند إعداده "
                               "(nafitha enrol). يصلح لجهاز واحد في المكتب المختار، حتى "
                               "انتهاء صلاحيته.",
                         "en": "The code is typed once into the new device when it is set up "
                               "(nafitha enrol). It serves one device of the chosen office "
                               "until it expires."},
    "enrol_code.office": {"ar": "المكتب", "en": "Office"},
    "enrol_code.new_office": {"ar": "أو رمز مكتب جديد (حتى 8 أحرف لاتينية كبيرة أو أرقام)",
                              "en": "Or a new office code (up to 8 capital letters or digits)"},
    "enrol_code.choose": {"ar": "— مكتب جديد (اكتب رمزه) —", "en": "— a new office (type its "
                                                                  "code) —"},
    "enrol_code.role": {"ar": "نوع الجهاز", "en": "Kind of device"},
    "enrol_code.hours": {"ar": "مدة الصلاحية بالساعات (من 1 إلى 720)",
                         "en": "Valid for, in hours (1 to 720)"},
    "enrol_code.submit": {"ar": "إنشاء الرمز", "en": "Make the code"},
    "enrol_code.none": {"ar": "لا مكاتب لبلديتك بعد: يُسند مدير النظام المكاتب إلى البلديات.",
                        "en": "Your municipality has no offices yet: an administrator gives "
                              "offices to municipalities."},
    "enrol_code.made": {"ar": "رمز تسجيل جهاز في المكتب {office}: {role}",
                        "en": "Enrolment code for office {office}: {role}"},
    "enrol_code.code": {"ar": "الرمز", "en": "Code"},
    "enrol_code.qr": {"ar": "رمز QR يحمل رمز التسجيل {code}",
                      "en": "QR code holding the enrolment code {code}"},
    "enrol_code.expires": {"ar": "ينتهي {at} بالتوقيت العالمي (بعد {d}).",
                           "en": "Expires {at} UTC (in {d})."},
    "enrol_code.once": {"ar": "يظهر الرمز هنا مرة واحدة فقط ولا يُحفظ: انقله الآن إلى "
                              "الجهاز أو امسحه منه.",
                        "en": "The code is shown only here, once, and is not kept: take it "
                              "to the device now, or scan it from there."},
    "enrol_code.another": {"ar": "رمز آخر", "en": "Another code"},
    "enrol_code.back": {"ar": "العودة إلى المكاتب", "en": "Back to offices"},
    "revoke.title": {"ar": "إلغاء جهاز", "en": "Revoke a device"},
    "revoke.what": {"ar": "بعد الإلغاء يرفض المركز رمز دخول هذا الجهاز فورًا، وتُرفض الرخص التي "
                          "يوقّعها من الآن. لا يمكن التراجع: يعود الجهاز برمز تسجيل جديد فقط.",
                    "en": "Once revoked, central refuses this device's token at once and the "
                          "licences it signs from now on. This cannot be undone: the device "
                          "comes back only with a new enrolment code."},
    "revoke.confirm": {"ar": "أفهم أن الجهاز {device} سيتوقف عن المزامنة فورًا.",
                       "en": "I understand that device {device} stops syncing at once."},
    "revoke.submit": {"ar": "إلغاء الجهاز نهائيًا", "en": "Revoke the device"},
    "revoke.cancel": {"ar": "تراجع", "en": "Cancel"},
    "error.invalid_ttl": {"ar": "مدة الصلاحية: عدد صحيح من الساعات من 1 إلى 720 (30 يومًا).",
                          "en": "Valid for: a whole number of hours from 1 to 720 (30 days)."},
    "error.device_revoked": {"ar": "هذا الجهاز ملغى من قبل، ولم يتغيّر شيء.",
                             "en": "This device is already revoked; nothing was changed."},
    "error.confirm_revoke": {"ar": "ضع علامة على «أفهم» لتأكيد الإلغاء. لم يتغيّر شيء.",
                             "en": "Tick “I understand” to confirm. Nothing was changed."},
    "home.alerts": {"ar": "تنبيهات", "en": "Alerts"},
    "home.no_alerts": {"ar": "لا تنبيهات الآن.", "en": "No alerts now."},
    "home.thresholds": {"ar": "يُنبَّه عن مكتب لم يتصل أي من أجهزته منذ {silent}، وعن أحداث "
                              "تنتظر الإرسال منذ أكثر من {backlog}، وعن كل رفض خلال آخر 24 "
                              "ساعة.",
                        "en": "An alert is raised for an office none of whose devices has "
                              "been in touch for {silent}, for events waiting to be sent for "
                              "more than {backlog}, and for every refusal in the last 24 "
                              "hours."},
    "home.alert_silent": {"ar": "المكتب {office} صامت: لم يتصل أي جهاز منذ {at} ({ago}).",
                          "en": "Office {office} is silent: no device in touch since {at} "
                                "({ago})."},
    "home.alert_backlog": {"ar": "الجهاز {device}: أحداث لم تصل بعد (العدد: {count})، "
                                 "أقدمها {ago}.",
                           "en": "Device {device}: {count} event(s) not sent yet, the oldest "
                                 "{ago}."},
    "home.alert_refused": {"ar": "الجهاز {device}: رُفض ما أرسله (العدد: {count}) خلال آخر "
                                 "24 ساعة، آخرها {ago}.",
                           "en": "Device {device}: {count} refusal(s) in the last 24 hours, "
                                 "the latest {ago}."},
    "home.alert_reason": {"ar": "السبب المسجّل:", "en": "Reason recorded:"},
    "home.open_office": {"ar": "افتح المكتب {office}", "en": "Open office {office}"},
    "home.kind.silent": {"ar": "مكتب صامت", "en": "Silent office"},
    "home.kind.backlog": {"ar": "أحداث متأخرة", "en": "Old backlog"},
    "home.kind.refused": {"ar": "رفض", "en": "Refused"},
    "home.counts": {"ar": "بالأرقام", "en": "At a glance"},
    "home.awaiting": {"ar": "طلبات تنتظر قرارًا", "en": "Applications awaiting a decision"},
    "home.online": {"ar": "أجهزة اتصلت خلال الساعة الأخيرة",
                    "en": "Devices in touch in the last hour"},
    "home.offices": {"ar": "مكاتب", "en": "Offices"},
    # --- end of operations' strings --------------------------------------------------------------
    # --- catalogue and fees pages (central/console/catalogue.py) ---------------------------------
    "catalogue.title": {"ar": "دليل الخدمات", "en": "Service catalogue"},
    "catalogue.intro": {"ar": "كل خدمة ورسومها كما ينشرها المركز الآن إلى المكاتب.",
                        "en": "Every service and its fee as central publishes them to the "
                              "offices now."},
    "catalogue.name_ar": {"ar": "الاسم بالعربية", "en": "Name in Arabic"},
    "catalogue.name_en": {"ar": "الاسم بالإنجليزية", "en": "Name in English"},
    "catalogue.fee": {"ar": "الرسوم", "en": "Fee"},
    "catalogue.validity": {"ar": "مدة الصلاحية", "en": "Valid for"},
    "catalogue.issue": {"ar": "طريقة الإصدار", "en": "Issued"},
    "catalogue.instant": {"ar": "فورًا بعد الدفع", "en": "At once, when paid"},
    "catalogue.review": {"ar": "بعد مراجعة البلدية", "en": "After the municipality's review"},
    "catalogue.offered_at": {"ar": "تُقدَّم في", "en": "Offered at"},
    "catalogue.all_offices": {"ar": "كل المكاتب", "en": "Every office"},
    "catalogue.assessed": {"ar": "حسب التقدير: يُدخل المبلغ في خانة «{field}»",
                           "en": "As assessed: the amount entered as “{field}”"},
    "catalogue.days_one": {"ar": "يوم واحد", "en": "1 day"},
    "catalogue.days_two": {"ar": "يومان", "en": "2 days"},
    "catalogue.days_few": {"ar": "{n} أيام", "en": "{n} days"},
    "catalogue.days_many": {"ar": "{n} يومًا", "en": "{n} days"},
    "catalogue.days": {"ar": "{n} يوم", "en": "{n} days"},
    "catalogue.open": {"ar": "تفاصيل {name}", "en": "Details of {name}"},
    "catalogue.details": {"ar": "بيانات الخدمة", "en": "The service"},
    "catalogue.code": {"ar": "رمز الخدمة", "en": "Service code"},
    "catalogue.prefix": {"ar": "حرف التذكرة", "en": "Ticket letter"},
    "catalogue.licence_type": {"ar": "نوع الرخصة", "en": "Licence type"},
    "catalogue.version": {"ar": "إصدار البيانات المرجعية", "en": "Reference data version"},
    "catalogue.preview": {"ar": "معاينة شاشة الكشك", "en": "Kiosk preview"},
    "catalogue.preview_intro": {"ar": "هكذا تعرض أجهزة الكشك هذه الخدمة بعد أن تصلها النسخة "
                                      "المنشورة.",
                                "en": "How the kiosks show this service once the published "
                                      "version reaches them."},
    "catalogue.preview_ar": {"ar": "بالعربية", "en": "In Arabic"},
    "catalogue.preview_en": {"ar": "بالإنجليزية", "en": "In English"},
    "catalogue.fee_form": {"ar": "تعديل الرسوم", "en": "Change the fee"},
    "catalogue.fee_label": {"ar": "الرسوم ({currency})", "en": "Fee ({currency})"},
    "catalogue.fee_hint": {"ar": "مبلغ مثل {example}، وعدد المنازل العشرية {decimals} على "
                                 "الأكثر، ولا يزيد على {largest}.",
                           "en": "An amount like {example}, with at most {decimals} decimals, "
                                 "and no more than {largest}."},
    "catalogue.fee_assessed_note": {"ar": "رسوم هذه الخدمة هي المبلغ المقدَّر الذي يُدخل مع "
                                          "الطلب، فلا رسوم ثابتة لتعديلها.",
                                    "en": "This service's fee is the assessed amount entered "
                                          "with the application: there is no fixed fee to "
                                          "change."},
    "catalogue.save_fee": {"ar": "نشر الرسوم الجديدة", "en": "Publish the new fee"},
    "catalogue.settings_form": {"ar": "الصلاحية والمستندات والمكاتب",
                                "en": "Validity, documents and offices"},
    "catalogue.validity_label": {"ar": "مدة الصلاحية بالأيام (من 1 إلى 36500)",
                                 "en": "Valid for, in days (1 to 36500)"},
    "catalogue.documents": {"ar": "المستندات المطلوبة", "en": "Documents to bring"},
    "catalogue.documents_hint": {"ar": "مستند واحد في كل سطر، والسطر نفسه بالعربية "
                                       "وبالإنجليزية: {most} مستندًا على الأكثر، و{chars} "
                                       "حرف على الأكثر في السطر.",
                                 "en": "One document a line, the same line in Arabic and in "
                                       "English: at most {most} documents and {chars} "
                                       "characters a line."},
    "catalogue.documents_ar": {"ar": "المستندات بالعربية", "en": "Documents in Arabic"},
    "catalogue.documents_en": {"ar": "المستندات بالإنجليزية", "en": "Documents in English"},
    "catalogue.offices_legend": {"ar": "المكاتب التي تقدّم الخدمة",
                                 "en": "Offices that offer it"},
    "catalogue.offices_all": {"ar": "كل المكاتب، ومنها ما يُضاف لاحقًا",
                              "en": "Every office, including offices added later"},
    "catalogue.offices_some": {"ar": "المكاتب المختارة هنا فقط", "en": "Only the offices "
                                                                        "ticked here"},
    "catalogue.save_settings": {"ar": "نشر التعديلات", "en": "Publish the changes"},
    "catalogue.published": {"ar": "تم النشر في إصدار البيانات المرجعية {version}، ويصل إلى "
                                  "المكاتب مع مزامنتها التالية.",
                            "en": "Published as reference data version {version}; offices "
                                  "receive it at their next sync."},
    "catalogue.unchanged": {"ar": "لم يتغيّر شيء: هذه القيم منشورة من قبل.",
                            "en": "Nothing changed: these values are already published."},
    "catalogue.view_only": {"ar": "للاطلاع فقط: لا يسمح دورك بتعديل هذه الخدمة.",
                            "en": "View only: your role does not change this service."},
    "catalogue.national": {"ar": "الدليل وطني، برسوم واحدة في كل البلديات: يعدّله موظفو "
                                 "المستوى الوطني فقط.",
                           "en": "The catalogue is national, one fee in every municipality: "
                                 "only national staff change it."},
    "catalogue.detail": {"ar": "التفصيل التقني:", "en": "Technical detail:"},
    "catalogue.back": {"ar": "رجوع إلى دليل الخدمات", "en": "Back to the catalogue"},
    "catalogue.error.invalid_fee": {"ar": "الرسوم: مبلغ أكبر من صفر ولا يزيد على {largest} "
                                          "{currency}، وعدد منازله العشرية {decimals} على "
                                          "الأكثر، مثل {example}. لم يُنشر شيء.",
                                    "en": "Fee: an amount above zero and at most {largest} "
                                          "{currency}, with at most {decimals} decimals, like "
                                          "{example}. Nothing was published."},
    "catalogue.error.assessed": {"ar": "رسوم هذه الخدمة مبلغ مقدَّر، فلا رسوم ثابتة لتعديلها. "
                                       "لم يُنشر شيء.",
                                 "en": "This service's fee is assessed: there is no fixed fee "
                                       "to change. Nothing was published."},
    "catalogue.error.invalid_validity_days": {"ar": "مدة الصلاحية: عدد صحيح من الأيام من 1 "
                                                    "إلى 36500. لم يُنشر شيء.",
                                              "en": "Valid for: a whole number of days from 1 "
                                                    "to 36500. Nothing was published."},
    "catalogue.error.invalid_documents": {"ar": "المستندات المطلوبة: لكل سطر نص بالعربية ونص "
                                                "بالإنجليزية لا يزيد على {chars} حرف، دون "
                                                "الرمزين < و> ودون رموز التحكم أو تغيير "
                                                "اتجاه النص، و{most} مستندًا على الأكثر. لم "
                                                "يُنشر شيء.",
                                          "en": "Documents to bring: each line has an Arabic "
                                                "and an English text of at most {chars} "
                                                "characters, without < or > or control and "
                                                "text-direction characters, and there are at "
                                                "most {most}. Nothing was published."},
    "catalogue.error.documents_unpaired": {"ar": "المستندات المطلوبة: عدد الأسطر بالعربية "
                                                 "يختلف عن عددها بالإنجليزية؛ اكتب كل مستند "
                                                 "باللغتين في السطر نفسه. لم يُنشر شيء.",
                                           "en": "Documents to bring: the Arabic and the "
                                                 "English lists have different numbers of "
                                                 "lines; write each document in both, on the "
                                                 "same line. Nothing was published."},
    "catalogue.error.unknown_office": {"ar": "المكاتب: أحد المكاتب المختارة غير معروف للمركز. "
                                             "لم يُنشر شيء.",
                                       "en": "Offices: one of the offices chosen is not known "
                                             "to central. Nothing was published."},
    "catalogue.error.invalid_offices": {"ar": "المكاتب: اختر كل المكاتب أو مكاتب معروفة دون "
                                              "تكرار. لم يُنشر شيء.",
                                        "en": "Offices: choose every office, or known offices "
                                              "each once. Nothing was published."},
    "catalogue.error.no_office": {"ar": "المكاتب: اختر مكتبًا واحدًا على الأقل، أو كل المكاتب. "
                                        "لم يُنشر شيء.",
                                  "en": "Offices: tick at least one office, or choose every "
                                        "office. Nothing was published."},
    "catalogue.error.changed_meanwhile": {"ar": "نشر شخص آخر تعديلًا على هذه الخدمة بعد أن "
                                                "فتحتَ الصفحة، فلم يُنشر تعديلك. تعرض الصفحة "
                                                "الآن القيم الحالية؛ أعد تعديلك عليها.",
                                          "en": "Someone else published a change to this "
                                                "service after you opened the page, so yours "
                                                "was not published. The page now shows the "
                                                "current values: make your change again."},
    "catalogue.error.unknown_service": {"ar": "لا توجد هذه الخدمة في الدليل.",
                                        "en": "There is no such service in the catalogue."},
    # --- end of the catalogue and fees pages' strings -------------------------------------------
    # --- the finance pages: reconciliation and revenue (central/console/finance.py) ------------
    "nav.finance": {"ar": "المالية", "en": "Finance"},
    "fin.tabs": {"ar": "صفحات المالية", "en": "Finance pages"},
    "fin.reconciliation": {"ar": "التسوية مع شبكة الدفع", "en": "Reconciliation"},
    "fin.revenue": {"ar": "الإيرادات حسب القناة", "en": "Revenue by channel"},
    "fin.utc": {"ar": "الأيام بالتوقيت العالمي المنسّق (UTC)، كما في ملفات التسوية.",
                "en": "Days are in UTC, as in the settlement files."},
    "fin.date": {"ar": "اليوم", "en": "Day"},
    "fin.show": {"ar": "عرض", "en": "Show"},
    "fin.upload_title": {"ar": "رفع ملف التسوية اليومي", "en": "Upload the daily settlement file"},
    "fin.file": {"ar": "ملف التسوية (CSV)", "en": "Settlement file (CSV)"},
    "fin.header_is": {"ar": "السطر الأول بالضبط:", "en": "The first line, exactly:"},
    "fin.file_hint": {"ar": "كل الأسطر ليوم واحد. حتى {kb} كيلوبايت هنا؛ للملفات الأكبر استعمل "
                            "الأمر nafitha central settlement import في سطر الأوامر.",
                      "en": "Every line of one day. Up to {kb} KB here; for larger files use "
                            "nafitha central settlement import."},
    "fin.upload": {"ar": "رفع الملف", "en": "Upload"},
    "fin.national_upload": {"ar": "يرفع ملفات التسوية موظفو المالية على المستوى الوطني، فالملف "
                                  "يشمل كل البلديات.",
                            "en": "Settlement files are uploaded by national finance staff: a "
                                  "file covers every municipality."},
    "fin.imported": {"ar": "استُورد ملف يوم {date}: {lines} سطرًا، وهذه مقارنته بإشعارات الدفع.",
                     "en": "The file for {date} was imported: {lines} line(s), compared below "
                           "with the payment notifications."},
    "fin.no_file": {"ar": "لم يُستورد ملف تسوية لهذا اليوم بعد، فكل إشعار دفع يظهر أدناه "
                          "«غير موجود في الملف».",
                    "en": "No settlement file was imported for this day yet: every payment "
                          "notification shows below as not in the file."},
    "fin.counts": {"ar": "أسطر الملف: {lines} · إشعارات الدفع: {notifications} · الفروق: {n}",
                   "en": "File lines: {lines} · Payment notifications: {notifications} · "
                         "Differences: {n}"},
    "fin.differences": {"ar": "الفروق بين الملف والإشعارات ليوم {date}",
                        "en": "Differences between the file and the notifications, {date}"},
    "fin.no_difference": {"ar": "لا فروق: الملف والإشعارات متطابقان.",
                          "en": "No difference: the file and the notifications agree."},
    "fin.kind": {"ar": "الفرق", "en": "Difference"},
    "fin.transaction": {"ar": "رقم العملية", "en": "Transaction"},
    "fin.bill": {"ar": "رقم الفاتورة", "en": "Bill number"},
    "fin.file_amount": {"ar": "المبلغ في الملف", "en": "Amount in the file"},
    "fin.notified_amount": {"ar": "المبلغ المُشعَر به", "en": "Amount notified"},
    "fin.line": {"ar": "السطر", "en": "Line"},
    "fin.kind.in_file_not_notified": {"ar": "في الملف ولم يصل إشعار بها",
                                      "en": "In the file, never notified"},
    "fin.kind.notified_not_in_file": {"ar": "وصل إشعار بها وليست في الملف",
                                      "en": "Notified, missing from the file"},
    "fin.kind.amount_differs": {"ar": "المبلغ مختلف", "en": "Amount differs"},
    "fin.kind.duplicate_line": {"ar": "سطر مكرر في الملف", "en": "Line repeated in the file"},
    "fin.kind.unknown_bill": {"ar": "فاتورة غير معروفة", "en": "Unknown bill"},
    "fin.kind.refund_due": {"ar": "مبلغ يُردّ ({reason})", "en": "Refund due ({reason})"},
    "fin.reason.expired": {"ar": "فاتورة منتهية", "en": "bill expired"},
    "fin.reason.cancelled": {"ar": "فاتورة ملغاة", "en": "bill cancelled"},
    "fin.reason.double": {"ar": "دُفعت مرتين عبر الشبكة", "en": "paid twice through a network"},
    "fin.reason.double_payment": {"ar": "دُفعت في المكتب أيضًا", "en": "also paid at the office"},
    "fin.reason.not_payable": {"ar": "الطلب لم يعد قابلًا للدفع",
                               "en": "application no longer payable"},
    "fin.reason.amount_differs": {"ar": "مبلغ غير مبلغ الفاتورة",
                                  "en": "not the bill's amount"},
    "fin.error.choose_file": {"ar": "اختر ملف التسوية (CSV) قبل الرفع. لم يُستورد شيء.",
                              "en": "Choose the settlement file (CSV) before uploading. Nothing "
                                    "was imported."},
    "fin.error.too_large": {"ar": "الملف أكبر من {kb} كيلوبايت. استعمل الأمر nafitha central "
                                  "settlement import في سطر الأوامر. لم يُستورد شيء.",
                            "en": "The file is larger than {kb} KB: use nafitha central "
                                  "settlement import. Nothing was imported."},
    "fin.error.not_text": {"ar": "الملف ليس نصًا بترميز UTF-8. لم يُستورد شيء.",
                           "en": "The file is not UTF-8 text. Nothing was imported."},
    "fin.error.bad_header": {"ar": "السطر الأول ليس عناوين ملف التسوية: يجب أن يطابق تمامًا "
                                   "العناوين المبيّنة تحت حقل الملف. لم يُستورد شيء.",
                             "en": "The first line is not the settlement file's header: it must "
                                   "be exactly the one shown under the file field. Nothing was "
                                   "imported."},
    "fin.error.empty_file": {"ar": "الملف لا يحوي أي سطر بعد العناوين. لم يُستورد شيء.",
                             "en": "The file has no line after its header. Nothing was imported."},
    "fin.error.too_many_lines": {"ar": "أسطر الملف أكثر من المسموح. لم يُستورد شيء.",
                                 "en": "The file has too many lines. Nothing was imported."},
    "fin.error.bad_line": {"ar": "السطر {line} لا يُقرأ: عدد الأعمدة أو التاريخ أو رقم العملية غير "
                                 "صحيح. لم يُستورد شيء.",
                           "en": "Line {line} does not read: wrong number of columns, date or "
                                 "transaction. Nothing was imported."},
    "fin.error.invalid_amount": {"ar": "السطر {line}: المبلغ يجب أن يكون عددًا صحيحًا موجبًا من "
                                       "الفلوس. لم يُستورد شيء.",
                                 "en": "Line {line}: the amount must be a whole positive number "
                                       "of fils. Nothing was imported."},
    "fin.error.invalid_time": {"ar": "السطر {line}: وقت الدفع غير صحيح (ISO 8601 مع فرق التوقيت). "
                                     "لم يُستورد شيء.",
                               "en": "Line {line}: the payment time is not valid (ISO 8601 with "
                                     "its offset). Nothing was imported."},
    "fin.error.bad_bill": {"ar": "السطر {line}: رقم الفاتورة غير صحيح. لم يُستورد شيء.",
                           "en": "Line {line}: the bill number is not valid. Nothing was "
                                 "imported."},
    "fin.error.mixed_dates": {"ar": "في الملف أسطر لأكثر من يوم؛ ملف التسوية ليوم واحد. لم يُستورد "
                                    "شيء.",
                              "en": "The file has lines of more than one day; a settlement file "
                                    "is for one day. Nothing was imported."},
    "fin.error.already_imported": {"ar": "سبق استيراد ملف تسوية ليوم {date}. لم يُستورد شيء.",
                                   "en": "A settlement file for {date} was already imported. "
                                         "Nothing was imported."},
    "fin.error.invalid_date": {"ar": "التاريخ بصيغة سنة-شهر-يوم، مثل 2026-12-06.",
                               "en": "A date is YYYY-MM-DD, e.g. 2026-12-06."},
    "fin.error.invalid_range": {"ar": "تاريخ البداية بعد تاريخ النهاية.",
                                "en": "The first day is after the last."},
    "fin.error.range_too_long": {"ar": "الفترة لا تتجاوز 366 يومًا.",
                                 "en": "A report covers at most 366 days."},
    "fin.error.unknown_office": {"ar": "المكتب غير معروف.", "en": "Unknown office."},
    "fin.from": {"ar": "من يوم", "en": "From"},
    "fin.to": {"ar": "إلى يوم", "en": "To"},
    "fin.office": {"ar": "المكتب", "en": "Office"},
    "fin.all_offices": {"ar": "كل المكاتب", "en": "Every office"},
    "fin.revenue_caption": {"ar": "المبالغ المحصّلة من {first} إلى {last}، حسب اليوم والمكتب",
                            "en": "Money taken from {first} to {last}, by day and office"},
    "fin.no_revenue": {"ar": "لا مدفوعات في هذه الأيام.", "en": "No payment in these days."},
    "fin.total": {"ar": "المجموع", "en": "Total"},
    "fin.once": {"ar": "كل دفعة تُحسب مرة واحدة: أموال الشبكة من إشعاراتها فقط، والمدفوعات الملغاة "
                       "لا تُحسب، وما دُفع مرتين يظهر في «مبالغ تُرد».",
                 "en": "Each payment counts once: network money from its notifications only, "
                       "voided payments left out, and what was paid twice is under Refunds "
                       "due."},
    "fin.channel.counter_cash": {"ar": "نقدًا في المكتب", "en": "Counter cash"},
    "fin.channel.counter_card": {"ar": "بطاقة في المكتب", "en": "Counter card"},
    "fin.channel.counter_online": {"ar": "بوابة الدفع في المكتب", "en": "Counter online"},
    "fin.channel.kiosk_card": {"ar": "بطاقة في الكشك", "en": "Kiosk card"},
    "fin.channel.network": {"ar": "شبكة الدفع الوطنية", "en": "Payment network"},
    "fin.channel.other": {"ar": "أخرى", "en": "Other"},
    "fin.refunds": {"ar": "مبالغ تُرد", "en": "Refunds due"},
    "fin.no_refunds": {"ar": "لا مبالغ تُرد في هذه الأيام.", "en": "No refund due in these days."},
    "fin.reason": {"ar": "السبب", "en": "Why"},
    "fin.refund_total": {"ar": "مجموع ما يُرد: {amount} ({count})",
                         "en": "Total to refund: {amount} ({count})"},
    # --- end of the finance pages' strings -----------------------------------------------------
    # --- the reports and open data (central/console/reports.py) ------------------------------
    "nav.reports": {"ar": "التقارير", "en": "Reports"},
    "rep.title": {"ar": "تقارير المكاتب", "en": "Office reports"},
    "rep.choose": {"ar": "اختر التقرير", "en": "Choose the report"},
    "rep.period": {"ar": "الفترة", "en": "Period"},
    "rep.kind.day": {"ar": "يوم", "en": "Day"},
    "rep.kind.week": {"ar": "أسبوع (من الأحد)", "en": "Week (from Sunday)"},
    "rep.kind.month": {"ar": "شهر", "en": "Month"},
    "rep.kind.range": {"ar": "فترة من يوم إلى يوم", "en": "From a day to a day"},
    "rep.date": {"ar": "اليوم (لليوم أو الأسبوع)", "en": "Day (for a day or a week)"},
    "rep.month": {"ar": "الشهر", "en": "Month"},
    "rep.from": {"ar": "من يوم", "en": "From"},
    "rep.to": {"ar": "إلى يوم", "en": "To"},
    "rep.municipality": {"ar": "البلدية", "en": "Municipality"},
    "rep.all_municipalities": {"ar": "كل البلديات", "en": "Every municipality"},
    "rep.offices": {"ar": "المكاتب", "en": "Offices"},
    "rep.offices_hint": {"ar": "بلا اختيار: كل المكاتب المعروضة لك.",
                         "en": "None chosen: every office you see."},
    "rep.service": {"ar": "الخدمة", "en": "Service"},
    "rep.all_services": {"ar": "كل الخدمات", "en": "Every service"},
    "rep.show": {"ar": "عرض التقرير", "en": "Show the report"},
    "rep.heading": {"ar": "من {first} إلى {last} · {offices}",
                    "en": "{first} to {last} · {offices}"},
    "rep.no_office": {"ar": "لا مكاتب في هذا النطاق.", "en": "No office in this scope."},
    "rep.local_days": {"ar": "الأيام والساعات بالتوقيت المحلي لكل مكتب، كما تُحسب في المكتب نفسه.",
                       "en": "Days and hours are each office's local time, as the office "
                             "itself counts them."},
    "rep.headline": {"ar": "أهم الأرقام", "en": "Headline figures"},
    "rep.tickets": {"ar": "التذاكر", "en": "Tickets"},
    "rep.served": {"ar": "تمت خدمتها", "en": "Served"},
    "rep.wait_mean": {"ar": "متوسط الانتظار", "en": "Mean wait"},
    "rep.within_target": {"ar": "ضمن الوقت المستهدف", "en": "Within target"},
    "rep.revenue": {"ar": "الإيرادات", "en": "Revenue"},
    "rep.minutes": {"ar": "{n} دقيقة", "en": "{n} min"},
    "rep.charts": {"ar": "الرسوم البيانية", "en": "Charts"},
    "rep.chart.wait_by_hour": {"ar": "متوسط الانتظار حسب الساعة (دقيقة)",
                               "en": "Mean wait by hour (min)"},
    "rep.chart.volume_by_service": {"ar": "عدد التذاكر حسب الخدمة",
                                    "en": "Tickets by service"},
    "rep.chart.trend": {"ar": "التذاكر والانتظار يومًا بيوم", "en": "Tickets and waiting by day"},
    "rep.chart.trend_weeks": {"ar": "التذاكر والانتظار أسبوعًا بأسبوع (من الأحد)",
                              "en": "Tickets and waiting week by week (from Sunday)"},
    "rep.chart_text": {"ar": "الأرقام نفسها في الجداول أدناه.",
                       "en": "The same figures are in the tables below."},
    "rep.tables": {"ar": "الجداول", "en": "Tables"},
    "rep.empty_table": {"ar": "لا شيء في هذه الفترة.", "en": "Nothing in this period."},
    "rep.export": {"ar": "تنزيل التقرير", "en": "Download the report"},
    "rep.csv": {"ar": "ملف CSV", "en": "CSV file"},
    "rep.xlsx": {"ar": "ملف Excel بصيغة XLSX", "en": "Excel file (XLSX)"},
    "rep.no_export": {"ar": "تنزيل التقارير لموظفي العمليات والمالية والتدقيق.",
                      "en": "Reports are downloaded by operations, finance and audit staff."},
    "rep.error.backwards_range": {"ar": "يوم البداية بعد يوم النهاية. لم يُحسب شيء.",
                                  "en": "The first day is after the last. Nothing was "
                                        "computed."},
    "rep.error.range_too_long": {"ar": "التقرير لا يتجاوز 366 يومًا. اختر فترة أقصر.",
                                 "en": "A report covers at most 366 days. Choose a shorter "
                                       "period."},
    "rep.error.not_a_date": {"ar": "التاريخ بصيغة سنة-شهر-يوم، مثل 2026-11-24.",
                             "en": "A date is YYYY-MM-DD, e.g. 2026-11-24."},
    "rep.error.not_a_month": {"ar": "الشهر بصيغة سنة-شهر، مثل 2026-11.",
                              "en": "A month is YYYY-MM, e.g. 2026-11."},
    "rep.error.unknown_kind": {"ar": "اختر يومًا أو أسبوعًا أو شهرًا أو فترة.",
                               "en": "Choose a day, a week, a month or a range."},
    "rep.error.unknown_office": {"ar": "المكتب «{office}» غير معروف لك.",
                                 "en": "Office “{office}” is not one you can see."},
    "rep.error.unknown_service": {"ar": "هذه الخدمة ليست في دليل الخدمات.",
                                  "en": "This service is not in the catalogue."},
    "rep.error.unknown_municipality": {"ar": "هذه البلدية غير معروفة لك.",
                                       "en": "This municipality is not one you can see."},
    "nav.open_data": {"ar": "البيانات المفتوحة", "en": "Open data"},
    "od.title": {"ar": "البيانات المفتوحة الشهرية", "en": "Monthly open data"},
    "od.intro": {"ar": "أرقام شهرية مجمّعة لكل مكتب وخدمة، بالشكل الذي تنشره بوابات البيانات "
                       "المفتوحة (CKAN): ملف CSV وملف JSON وقاموس للبيانات. لا بيانات شخصية "
                       "فيها: لا أسماء ولا أرقام تذاكر ولا أرقام هوية ولا شبابيك.",
              "en": "Monthly figures by office and service, in the shape open-data portals "
                    "(CKAN) publish: a CSV file, a JSON file and a data dictionary. No personal "
                    "data: no names, ticket numbers, ID numbers or counters."},
    "od.threshold": {"ar": "الحد {n}: كل عدد من 1 إلى {m} يُترك فارغًا ويُذكر اسمه في عمود "
                           "«suppressed»، وكذلك المتوسط والوسيط لمجموعة أصغر من {n}. الصفر يظهر.",
                     "en": "Threshold {n}: any count from 1 to {m} is left blank and named in "
                           "the “suppressed” column, and so is a mean or median of a group "
                           "smaller than {n}. Zero is shown."},
    "od.month": {"ar": "الشهر", "en": "Month"},
    "od.show": {"ar": "إعداد الملفات", "en": "Prepare the files"},
    "od.files": {"ar": "الملفات", "en": "Files"},
    "od.file.csv": {"ar": "البيانات (CSV)", "en": "Data (CSV)"},
    "od.file.json": {"ar": "البيانات (JSON)", "en": "Data (JSON)"},
    "od.file.schema": {"ar": "قاموس البيانات (Table Schema)", "en": "Data dictionary (Table "
                                                                   "Schema)"},
    "od.file.package": {"ar": "وصف مجموعة البيانات (CKAN)", "en": "Dataset description (CKAN)"},
    "od.file.zip": {"ar": "الكل في ملف ZIP", "en": "Everything as a ZIP"},
    "od.checked": {"ar": "اجتازت الملفات فحص قاموسها. عدد الأسطر: {rows}، والخانات المخفية: "
                         "{suppressed}.",
                   "en": "Checked against its own dictionary: {rows} rows, {suppressed} cells "
                         "suppressed."},
    "od.preview": {"ar": "أول الأسطر", "en": "The first rows"},
    "od.no_rows": {"ar": "لا أرقام لهذا الشهر.", "en": "No figures for this month."},
    "od.scope_all": {"ar": "كل المكاتب", "en": "Every office"},
    "od.scope": {"ar": "المكاتب: {offices}", "en": "Offices: {offices}"},
    "od.error.not_a_month": {"ar": "الشهر بصيغة سنة-شهر، مثل 2026-11. لم يُعدّ شيء.",
                             "en": "A month is YYYY-MM, e.g. 2026-11. Nothing was prepared."},
    "od.error.future_month": {"ar": "هذا الشهر لم ينتهِ بعد. لم يُعدّ شيء.",
                              "en": "This month is not over yet. Nothing was prepared."},
    "od.error.unknown_file": {"ar": "لا ملف بهذا الاسم.", "en": "No file of that name."},
}

ROLE_KEYS = {role: f"role.{role}" for role in ("officer", "operations", "finance", "admin",
                                               "auditor")}


def t(key: str, lang: str = "ar", **values) -> str:
    text = STRINGS[key][lang if lang in LANGUAGES else "ar"]
    return text.format(**values) if values else text


@pass_context
def template_t(context, key: str, **values) -> str:
    """The template global `t`: the page's language comes from the context's `lang`."""
    return t(key, context.get("lang", "ar"), **values)
