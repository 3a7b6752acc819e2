"""The words and codes of the demo practice: its departments, conditions, referral reasons,
decline and cancellation reasons, and consult reports.

Only text and reference data live here (the partner directory's are in partners.py);
seed.py and journeys.py decide who gets what.
"""

from dataclasses import dataclass

ORGANIZATION = {
    "name": "Lakeside Orthopedics & Spine",
    "time_zone": "America/Chicago",
    "phone": "(217) 555-0140",
    "fax": "(217) 555-0141",
}

LOCATIONS = [
    {
        "name": "Springfield Main Clinic",
        "address": "2800 Lakeside Professional Pkwy",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "phone": "(217) 555-0140",
        "fax": "(217) 555-0141",
    },
    {
        "name": "Decatur Clinic",
        "address": "455 N Water St, Suite 200",
        "city": "Decatur",
        "state": "IL",
        "postal_code": "62523",
        "phone": "(217) 555-0160",
        "fax": "(217) 555-0161",
    },
]

PAYERS_COMMERCIAL = [
    "Blue Cross Blue Shield of Illinois",
    "Aetna",
    "UnitedHealthcare",
    "Cigna",
    "Health Alliance",
]
PAYERS_MEDICARE = [
    "Medicare",
    "Humana Medicare Advantage",
    "UnitedHealthcare AARP Medicare Advantage",
]
PAYERS_MEDICAID = ["Meridian (Illinois Medicaid)", "Blue Cross Community Health Plans"]
WORKERS_COMP = "Workers' compensation"

DEPARTMENTS = [
    {
        "code": "spine",
        "name": "Spine",
        "description": "Neck and back pain, sciatica, spinal stenosis, disc disease, "
        "scoliosis and spinal fractures, from injections and therapy to surgery.",
        "accepted_keywords": ["back pain", "neck pain", "sciatica", "stenosis", "radiculopathy"],
        "excluded_conditions": ["C41.2", "C79.5"],  # spinal tumours go to oncology
        "excluded_keywords": ["cauda equina"],  # an emergency: the ED, not a referral
        "min_age": 16,
        "required_documents": ["referral_letter"],
        "accepted_specialties": ["Spine surgery", "Physiatry", "Interventional spine"],
        "accepted_conditions": [
            "M40",
            "M41",
            "M42",
            "M43",
            "M45",
            "M46",
            "M47",
            "M48",
            "M50",
            "M51",
            "M53",
            "M54",
            "M80",
            "S12",
            "S13",
            "S22",
            "S32",
            "S33",
        ],
        "accepted_insurances": [
            *PAYERS_COMMERCIAL,
            *PAYERS_MEDICARE,
            *PAYERS_MEDICAID,
            WORKERS_COMP,
        ],
        "locations": ["Springfield Main Clinic"],
    },
    {
        "code": "joint",
        "name": "Joint Replacement",
        "description": "Hip, knee and shoulder replacement and revision for arthritis "
        "and failed earlier replacements.",
        "accepted_keywords": ["arthritis", "replacement", "osteoarthritis"],
        "excluded_conditions": ["M00"],  # an infected joint needs urgent care first
        "excluded_keywords": ["open wound"],
        "min_age": 18,
        "required_documents": ["referral_letter", "imaging"],
        "accepted_specialties": [
            "Adult reconstruction",
            "Hip and knee arthroplasty",
            "Shoulder arthroplasty",
        ],
        "accepted_conditions": [
            "M16",
            "M17",
            "M19",
            "M87",
            "M25.55",
            "M25.56",
            "Z96.64",
            "Z96.65",
            "T84",
        ],
        # Joint replacement is not contracted with the Medicaid plans.
        "accepted_insurances": [*PAYERS_COMMERCIAL, *PAYERS_MEDICARE],
        "locations": ["Springfield Main Clinic"],
    },
    {
        "code": "sports-hand",
        "name": "Sports Medicine & Hand",
        "description": "Sports injuries, ligament and tendon tears, carpal tunnel, "
        "trigger finger, and shoulder, elbow, wrist, foot and ankle problems.",
        "accepted_keywords": ["sprain", "tear", "carpal tunnel", "trigger finger", "sports"],
        "excluded_keywords": ["amputation"],
        "min_age": 8,
        "required_documents": ["referral_letter"],
        "accepted_specialties": [
            "Sports medicine",
            "Hand surgery",
            "Shoulder and elbow",
            "Foot and ankle",
        ],
        "accepted_conditions": [
            "G56",
            "M22",
            "M23",
            "M65",
            "M67",
            "M70",
            "M72",
            "M75",
            "M76",
            "M77",
            "S43",
            "S46",
            "S52",
            "S53",
            "S62",
            "S63",
            "S83",
            "S86",
            "S93",
        ],
        "accepted_insurances": [
            *PAYERS_COMMERCIAL,
            *PAYERS_MEDICARE,
            *PAYERS_MEDICAID,
            WORKERS_COMP,
        ],
        "locations": ["Springfield Main Clinic", "Decatur Clinic"],
    },
]


@dataclass(frozen=True)
class Condition:
    codes: tuple[str, ...]
    reasons: tuple[str, ...]  # {side} {weeks} {tried} are filled in
    weight: float = 1.0
    ages: tuple[int, int] = (0, 120)  # the patients who have it, youngest and oldest

    def fits(self, age: int) -> bool:
        return self.ages[0] <= age <= self.ages[1]


CONDITIONS: dict[str, list[Condition]] = {
    "spine": [
        Condition(
            ("M54.16",),
            (
                "Low back pain radiating down the {side} leg for {weeks} weeks; {tried}.",
                "Lumbar radiculopathy, {side} L5 distribution, {weeks} weeks; {tried}.",
            ),
            3,
        ),
        Condition(
            ("M51.16",),
            ("L4-5 disc herniation on MRI with {side} leg pain and numbness; {tried}.",),
            2,
        ),
        Condition(
            ("M48.062",),
            (
                "Neurogenic claudication: can walk one block before leg pain; MRI shows L3-5 stenosis.",
                "Spinal stenosis with worsening walking tolerance over {weeks} weeks; {tried}.",
            ),
            2,
            (50, 120),
        ),
        Condition(
            ("M54.12",),
            ("Neck pain radiating into the {side} arm with tingling in the fingers; {tried}.",),
            1.5,
        ),
        Condition(
            ("M47.812", "M54.2"),
            ("Chronic neck pain with cervical spondylosis on X-ray; {tried}.",),
            1,
            (40, 120),
        ),
        Condition(
            ("M43.16",),
            ("Grade 1 L4-5 spondylolisthesis with mechanical back pain; {tried}.",),
            1,
            (30, 120),
        ),
        Condition(
            ("M54.50",), ("Low back pain for {weeks} weeks without red flags; {tried}.",), 1.5
        ),
        Condition(
            ("M41.26",),
            ("Adult lumbar scoliosis, curve progression on serial X-rays; please evaluate.",),
            0.5,
            (40, 120),
        ),
        Condition(
            ("M80.08XA",),
            (
                "Painful osteoporotic compression fracture after a minor fall; consider kyphoplasty.",
            ),
            0.5,
            (55, 120),
        ),
    ],
    "joint": [
        Condition(
            ("M17.11",),
            (
                "Right knee osteoarthritis, bone-on-bone medially; {tried}; discuss replacement.",
                "Severe right knee pain limiting walking; {tried}.",
            ),
            3,
            (45, 120),
        ),
        Condition(
            ("M17.12",),
            ("Left knee osteoarthritis with night pain; {tried}; evaluate for arthroplasty.",),
            3,
            (45, 120),
        ),
        Condition(
            ("M16.11",),
            ("Right hip osteoarthritis, groin pain and stiffness; {tried}.",),
            2,
            (45, 120),
        ),
        Condition(
            ("M16.12",),
            ("Left hip arthritis with a limp and difficulty with shoes and socks; {tried}.",),
            2,
            (45, 120),
        ),
        Condition(
            ("M17.0",),
            ("Bilateral knee osteoarthritis, worse on the {side}; {tried}.",),
            1,
            (45, 120),
        ),
        Condition(
            ("M19.011",),
            ("Right shoulder glenohumeral arthritis with loss of motion; {tried}.",),
            0.7,
            (50, 120),
        ),
        Condition(
            ("M87.051",),
            ("Avascular necrosis of the right femoral head on MRI; please see soon.",),
            0.3,
            (25, 120),
        ),
        Condition(
            ("Z96.651", "M25.561"),
            (
                "Pain and swelling in a right knee replaced elsewhere six years ago; "
                "evaluate for loosening.",
            ),
            0.4,
            (55, 120),
        ),
    ],
    "sports-hand": [
        Condition(
            ("S83.511A",),
            ("Twisting injury playing basketball, right knee instability; suspect ACL tear.",),
            1.5,
            (12, 50),
        ),
        Condition(
            ("S83.241A",),
            ("Medial meniscus tear of the right knee on MRI with catching and locking.",),
            1.5,
            (12, 120),
        ),
        Condition(
            ("M75.101",),
            ("Right shoulder pain and weakness lifting overhead for {weeks} weeks; {tried}.",),
            2,
            (30, 120),
        ),
        Condition(("M75.41",), ("Right shoulder impingement; {tried}.",), 1, (18, 120)),
        Condition(
            ("G56.01",),
            ("Right carpal tunnel syndrome, night numbness, positive EMG; {tried}.",),
            1.5,
            (25, 120),
        ),
        Condition(
            ("G56.02",),
            ("Left carpal tunnel syndrome with thenar weakness; {tried}.",),
            1,
            (25, 120),
        ),
        Condition(("M65.331",), ("Trigger finger, right middle finger; {tried}.",), 1, (30, 120)),
        Condition(
            ("M72.0",), ("Dupuytren contracture of the {side} ring finger.",), 0.5, (45, 120)
        ),
        Condition(
            ("M77.11",), ("Right lateral epicondylitis for {weeks} weeks; {tried}.",), 1, (25, 120)
        ),
        Condition(
            ("S52.501A",),
            (
                "Right distal radius fracture after a fall on an outstretched hand; "
                "splinted in urgent care.",
            ),
            1,
        ),
        Condition(
            ("S93.401A",),
            ("Recurrent right ankle sprains with instability; {tried}.",),
            1,
            (12, 120),
        ),
        Condition(
            ("M76.61",), ("Right Achilles tendinopathy in a runner; {tried}.",), 0.7, (18, 70)
        ),
        Condition(
            ("M22.2X1",), ("Anterior right knee pain in a young athlete; {tried}.",), 0.8, (10, 30)
        ),
    ],
}

TRIED = [
    "failed 6 weeks of physical therapy",
    "NSAIDs and home exercise without relief",
    "no better after a steroid injection",
    "PT and a course of oral steroids did not help",
    "conservative care for {weeks} weeks without improvement",
]
# What a referral letter may say came with it; said only when that document is attached.
SENT_WITH = [("X-rays attached", "imaging"), ("MRI report attached", "imaging")]

SELF_REASONS = {
    "spine": [
        "Back pain for months and would like to see a spine specialist.",
        "Neck and arm pain; asking for an appointment.",
    ],
    "joint": [
        "Knee pain when climbing stairs; interested in knee replacement options.",
        "Hip pain at night; friend had a good experience with your surgeons.",
    ],
    "sports-hand": [
        "Shoulder pain after a fall; wants to be seen by sports medicine.",
        "Numb fingers at night; asking about carpal tunnel treatment.",
        "Hurt knee playing soccer last weekend.",
    ],
}

CAMPAIGNS = [
    "Spring sports injury clinic mailer",
    "Search ads: back pain",
    "Community health fair",
    "Joint replacement seminar",
    "Radio spot: same-week appointments",
]
OTHER_SOURCES = [
    "Employer wellness program (city transit)",
    "Workers' compensation case manager",
    "Insurance nurse line",
    "Attorney referral (personal injury)",
    "School athletic trainer",
]

# What a review may find missing, the kind of document that answers it, and the
# departments that ask for it.
MISSING_INFO: list[tuple[str, str, tuple[str, ...]]] = [
    ("MRI report from the outside imaging center", "imaging", ("spine", "sports-hand")),
    ("Prior authorization from the patient's plan", "insurance", ("spine", "joint", "sports-hand")),
    (
        "Last two clinic notes and the physical therapy discharge summary",
        "records",
        ("spine", "joint", "sports-hand"),
    ),
    ("Weight-bearing X-rays of the affected joint", "imaging", ("joint",)),
    ("EMG/nerve conduction study report", "records", ("spine", "sports-hand")),
    (
        "Insurance card (front and back) and a current medication list",
        "insurance",
        ("spine", "joint", "sports-hand"),
    ),
]
# Joint replacement needs imaging (DEPARTMENTS' required_documents): what it asks for.
JOINT_IMAGING = MISSING_INFO[3]


@dataclass(frozen=True)
class Decline:
    """A decline reason, and the referrals it can be given to: with one of `codes` (any
    referral when empty), a patient aged within `ages`."""

    reason: str
    detail: str
    alternative: str
    codes: tuple[str, ...] = ()
    ages: tuple[int, int] = (0, 120)

    def fits(self, codes: list[str], age: int) -> bool:
        if not self.ages[0] <= age <= self.ages[1]:
            return False
        return not self.codes or any(code.startswith(self.codes) for code in codes)


# Per department; "*" applies to all. Insurance declines are not drawn from here: a
# patient whose plan the department does not take is declined for that (journeys.py).
DECLINES: dict[str, list[Decline]] = {
    "*": [
        Decline(
            "no_capacity",
            "New-patient wait is over eight weeks for this problem.",
            "Memorial Orthopedic Group, currently booking within two weeks",
        ),
        Decline(
            "incomplete_information",
            "No imaging or clinic notes after two requests.",
            "Resend with the imaging report and we will review within one business day",
        ),
        Decline(
            "other",
            "The patient is already established with one of our surgeons.",
            "Booked as a follow-up with the patient's own surgeon",
        ),
    ],
    "spine": [
        Decline(
            "not_clinically_indicated",
            "No radicular findings; imaging shows age-related changes only.",
            "Physical therapy for 6-8 weeks and NSAIDs; re-refer if no improvement",
            codes=("M54.5", "M47", "M43", "M54.2"),
        ),
        Decline(
            "outside_scope",
            "Progressive myelopathy with hand weakness needs neurosurgical care.",
            "Springfield Neurosurgical Associates, same-week urgent slots",
            codes=("M54.12", "M47.812"),
        ),
        Decline(
            "outside_scope",
            "Chronic widespread pain without a structural spine problem.",
            "Rheumatology evaluation",
            codes=("M54.5", "M54.2"),
        ),
    ],
    "joint": [
        Decline(
            "not_clinically_indicated",
            "Mild osteoarthritis on X-ray; not a surgical candidate yet.",
            "Physical therapy, weight management and a trial of injections",
            codes=("M16", "M17", "M19"),
        ),
        Decline(
            "outside_scope",
            "BMI above the practice's safe limit for elective arthroplasty.",
            "Medical weight-loss program, then re-refer",
            codes=("M16", "M17"),
        ),
    ],
    "sports-hand": [
        Decline(
            "outside_scope",
            "Pediatric fracture in a child under 12.",
            "Pediatric orthopedics at the children's hospital",
            codes=("S52",),
            ages=(0, 11),
        ),
        Decline(
            "outside_scope",
            "Foot neuropathy and a diabetic ulcer found at the ankle.",
            "Podiatry wound clinic",
            codes=("S93", "M76"),
            ages=(45, 120),
        ),
        Decline(
            "not_clinically_indicated",
            "Symptoms resolved per the referring office's follow-up call.",
            "",
        ),
    ],
}
INSURANCE_DECLINE = (
    "insurance_not_accepted",
    "{department} is not contracted with {payer}.",
    "An in-network orthopedic group from the plan's directory",
)

CANCELS_EARLY = [
    ("referrer_request", "Referring office sent it to the wrong specialty."),
    ("patient_request", "Patient feels better and does not want an appointment."),
    ("entered_in_error", "Logged against the wrong referral packet."),
]
# How a practice closes what was left standing for weeks, by the state it was left in:
# (reason, detail) of the cancellation.
STALE_CLOSES = {
    "received": [
        ("referrer_request", "Referring office confirmed the patient no longer needs the visit."),
    ],
    "in_review": [
        ("referrer_request", "Referring office withdrew it after the review took too long."),
        ("care_elsewhere", "Referring office sent the patient to another group meanwhile."),
    ],
    "pending_info": [
        ("referrer_request", "The requested records never came; the referring office withdrew it."),
    ],
    "accepted": [
        ("care_elsewhere", "Patient was seen elsewhere before we called to book."),
        ("patient_request", "Patient called to say the problem has settled."),
    ],
    "no_show": [
        ("patient_request", "Patient did not want to rebook after the missed visit."),
    ],
}
CANCELS_LATER = [
    ("care_elsewhere", "Patient chose a surgeon closer to home."),
    ("patient_request", "Patient will follow up with their primary care provider instead."),
    ("care_elsewhere", "Insurance steered the patient to another group."),
    ("other", "Patient moved out of state."),
]

REPORTS = {
    "spine": [
        "Seen for lumbar radiculopathy. MRI reviewed. Plan: L5-S1 epidural steroid injection and "
        "PT; follow-up in 6 weeks. Full consult note faxed to the referring office.",
        "Seen for spinal stenosis. Plan: decompression discussed; patient will consider surgery "
        "and return in 4 weeks. Consult note sent.",
        "Seen for neck pain with radiculopathy. Plan: cervical PT, gabapentin trial, recheck in "
        "8 weeks. Please continue primary care follow-up.",
    ],
    "joint": [
        "Seen for end-stage knee osteoarthritis. Total knee arthroplasty scheduled; pre-operative "
        "clearance requested from the referring provider.",
        "Seen for hip osteoarthritis. Plan: total hip arthroplasty after medical clearance. "
        "Consult note sent.",
        "Seen for knee pain; moderate OA. Plan: injection today, PT, revisit in 3 months. "
        "Returned to the referring provider for ongoing care.",
    ],
    "sports-hand": [
        "Seen for ACL tear. Reconstruction scheduled; prehab PT ordered. Consult note faxed.",
        "Seen for rotator cuff tear. Plan: arthroscopic repair; return to the referring office "
        "for pre-op clearance.",
        "Seen for carpal tunnel syndrome. Carpal tunnel release scheduled. Consult note sent.",
        "Seen for trigger finger; injection given today. Follow up as needed.",
    ],
}

VISIT_VALUES = {"spine": (180, 420), "joint": (200, 380), "sports-hand": (150, 320)}
PROCEDURE_VALUES = {"spine": (650, 1400), "joint": (450, 900), "sports-hand": (400, 1100)}

ATTEMPT_NOTES = {
    "reached": [
        "Spoke with the patient; booked the first available slot.",
        "Patient called back; appointment booked.",
    ],
    "no_answer": ["No answer; no voicemail set up.", ""],
    "left_voicemail": ["Left voicemail with the scheduling line.", ""],
    "busy": ["Line busy.", ""],
    "wrong_number": ["Number on the referral is disconnected."],
    "message_sent": ["Portal message sent asking the patient to call.", "Text message sent."],
    "patient_declined": ["Patient does not want to schedule at this time."],
}
