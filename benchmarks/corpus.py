"""Wording for synthetic findings: plausible sources, jurisdictions and
descriptions per category.

Screening providers write findings in their own words, in several languages,
often with commas; the benchmark batch does the same so that reading it costs
what reading a real batch costs (quoted fields, multi-byte characters).
Placeholders: ``{n}`` a small number, ``{amount}`` a sum written with a
thousands separator.
"""

from __future__ import annotations

Wording = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]  # (source, jurisdiction) pairs, descriptions

# A category the rulebook gains later still gets findings, in these words.
GENERIC: Wording = (
    (("County court records", "US-TX"), ("Screening provider report", "US")),
    ("Record reported by the screening provider", "Record found, details to be confirmed with the source"),
)

BY_CATEGORY: dict[str, Wording] = {
    "identity_discrepancy": (
        (("Social Security trace", "US"), ("Home Office right-to-work check", "GB"), ("公安部身份证核查", "CN")),
        (
            "Date of birth on the application differs from the identity document by {n} days",
            "Name on the passport does not match the application, spelling variant",
            "{n} past addresses not declared on the application",
            "身份证号码与申请表不一致",
        ),
    ),
    "education_discrepancy": (
        (("National Student Clearinghouse", "US"), ("HEDD degree verification", "GB"), ("学信网学历查询", "CN")),
        (
            "Claimed bachelor's degree not confirmed by the registrar",
            "Degree confirmed, but the graduation year differs by {n} years",
            "Diploma issuer could not be found; the institution may be unaccredited",
            "学历证书编号无法在学信网查到",
        ),
    ),
    "employment_discrepancy": (
        (("Previous employer, HR department", "US-NY"), ("The Work Number", "US"), ("前雇主人事部门", "CN-BJ")),
        (
            "Claimed tenure of {n} years, the employer confirms {n} months",
            "Job title claimed as manager, employer records show associate",
            "The employer has no record of the candidate",
            "工作起止时间与前雇主记录不符",
        ),
    ),
    "license_issue": (
        (("State DMV", "US-CA"), ("State Board of Pharmacy", "US-FL"), ("DVLA", "GB")),
        (
            "Driving licence suspended for {n} months, since reinstated",
            "Professional licence lapsed, renewed {n} weeks later",
            "Commercial licence restricted to daytime driving",
        ),
    ),
    "credit_record": (
        (("Experian", "US"), ("Equifax", "US"), ("中国人民银行征信中心", "CN")),
        (
            "Account in collections, balance ${amount}",
            "Chapter 7 bankruptcy, discharged",
            "{n} late payments on a credit card in the last two years",
            "信用卡逾期{n}次，已结清",
        ),
    ),
    "civil_judgment": (
        (("Superior Court, civil division", "US-CA"), ("County Court", "GB")),
        (
            "Small claims judgment of ${amount}, satisfied",
            "Landlord-tenant judgment, unpaid rent of ${amount}",
            "Breach of contract suit, settled out of court",
        ),
    ),
    "traffic_violation": (
        (("State DMV", "US-CA"), ("State DMV", "US-TX"), ("上海市公安局交通管理局", "CN-SH"), ("DVLA", "GB")),
        (
            "Speeding ticket, {n} mph over the limit; fine paid",
            "Failure to stop at a red light",
            "Low-speed rear-end collision at a stop light, no injuries; citation paid",
            "轻微交通事故（追尾），无人员受伤，已按简易程序处理",
            "Parking in a fire lane",
        ),
    ),
    "offense_driving": (
        (
            ("Los Angeles County Superior Court", "US-CA"), ("Harris County Criminal Court", "US-TX"),
            ("上海市浦东新区人民法院", "CN-SH"),
        ),
        (
            "Misdemeanour DUI conviction, first offence; DUI programme completed",
            "Reckless driving, {n} points on the licence",
            "Driving while the licence was suspended",
            "醉酒驾驶机动车，血液酒精含量{n}0mg/100ml，判处拘役",
        ),
    ),
    "offense_violence": (
        (("Cook County Circuit Court", "US-IL"), ("Crown Court", "GB"), ("北京市海淀区人民法院", "CN-BJ")),
        (
            "Simple assault, misdemeanour; {n} months probation",
            "Felony aggravated battery conviction",
            "Harassment, restraining order issued",
            "故意伤害他人身体，致轻伤，赔偿{amount}元",
        ),
    ),
    "offense_theft_fraud": (
        (("King County District Court", "US-WA"), ("北京市朝阳区人民法院", "CN-BJ")),
        (
            "Shoplifting, goods worth ${amount}, diversion completed",
            "Cheque fraud of ${amount}, restitution paid",
            "Embezzlement from a former employer",
            "盗窃罪，判处有期徒刑{n}个月，缓期执行",
        ),
    ),
    "offense_drug": (
        (("Maricopa County Superior Court", "US-AZ"), ("Magistrates' Court", "GB")),
        (
            "Possession of a controlled substance, small quantity",
            "Possession with intent to distribute",
            "Drug paraphernalia, fine of ${amount}",
        ),
    ),
    "offense_marijuana": (
        (("Los Angeles County Superior Court", "US-CA"), ("上海市浦东新区人民法院", "CN-SH")),
        (
            "Possession of marijuana, 28.5 g or less",
            "Possession of cannabis, misdemeanour",
            "Transport of marijuana, {n} oz",
        ),
    ),
    "offense_sexual": (
        (("State sex offender registry", "US-OH"),),
        ("Registered sex offender, tier {n}", "Indecent exposure, misdemeanour"),
    ),
    "offense_other": (
        (("Municipal Court", "US-NJ"), ("Magistrates' Court", "GB")),
        ("Disorderly conduct, fine paid", "Trespassing, charge reduced", "Public intoxication"),
    ),
    "sanctions_listing": (
        (("OFAC SDN list", "US"), ("EU consolidated sanctions list", "EU")),
        (
            "Name and date of birth match an entry on the sanctions list",
            "Possible match on a politically exposed persons list, under review",
        ),
    ),
    "drug_test": (
        (("Quest Diagnostics", "US"), ("LabCorp", "US")),
        (
            "Pre-employment panel positive for THC",
            "Dilute specimen, retest requested",
            "Positive for amphetamines, prescription on file",
        ),
    ),
}

# A case is often reported twice: by the court searched and by a national
# database that copies court records, under the same case number. The
# second report's source, by the country of the first.
DATABASE_SOURCES: dict[str, str] = {
    "US": "National criminal records database",
    "GB": "Police National Computer (DBS)",
    "CN": "中国裁判文书网",
}
GENERIC_DATABASE = "Multi-jurisdiction records database"

# Case numbers as courts write them, by the country of the jurisdiction:
# ``{year}`` the year of the offence or filing, ``{court}`` the court's code,
# ``{kind}`` criminal or civil in the court's notation, ``{number}`` the
# case's number. The Chinese form is the one of the Supreme People's Court's
# 2016 rules on case numbers: (year) court code, case type, number.
CASE_NUMBERS: dict[str, tuple[str, dict[str, str]]] = {
    "US": ("{year}-{kind}-{number:06d}", {"criminal": "CR", "civil": "CV"}),
    "GB": ("{kind}{year}{number:06d}", {"criminal": "T", "civil": "CC"}),
    "CN": ("({year}){court}{kind}{number}号", {"criminal": "刑初", "civil": "民初"}),
}
GENERIC_CASE_NUMBER = CASE_NUMBERS["US"]
# Court codes of the Chinese jurisdictions the sources above use.
COURT_CODES: dict[str, str] = {"CN-BJ": "京0105", "CN-SH": "沪0115", "CN": "京0105"}
