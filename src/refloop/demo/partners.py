"""The demo's referral partner directory: kinds of referring practice, the towns around
the practice, staff notes, and why and how the practice refers its own patients out.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PracticeKind:
    key: str
    count: int  # at full size (60 practices)
    names: tuple[str, ...]  # {town} and {surname} are filled in
    providers: tuple[int, int]
    # (credentials, specialty, taxonomy code, weight)
    clinicians: tuple[tuple[str, str, str, float], ...]
    departments: dict[str, float]  # where its referrals go
    in_network: float  # share in network
    outbound_target: float = 0.0  # how often we refer patients to this kind


PRIMARY_CARE = (
    ("MD", "Family Medicine", "207Q00000X", 0.55),
    ("DO", "Family Medicine", "207Q00000X", 0.15),
    ("MD", "Sports Medicine (Family Medicine)", "207QS1201X", 0.05),
    ("NP", "Nurse Practitioner, Family", "363LF0000X", 0.15),
    ("PA-C", "Physician Assistant, Medical", "363AM0700X", 0.10),
)

PRACTICE_KINDS = [
    PracticeKind(
        "family",
        20,
        (
            "{town} Family Medicine",
            "{surname} Family Practice",
            "{town} Family Care Associates",
            "Heartland Primary Care - {town}",
            "Prairie View Family Health",
            "{surname} & Partners Family Physicians",
        ),
        (2, 5),
        PRIMARY_CARE,
        {"spine": 0.4, "joint": 0.35, "sports-hand": 0.25},
        0.7,
    ),
    PracticeKind(
        "internal",
        10,
        (
            "{town} Internal Medicine",
            "{surname} Internal Medicine Associates",
            "Capital City Internists",
        ),
        (2, 5),
        (
            ("MD", "Internal Medicine", "207R00000X", 0.7),
            ("DO", "Internal Medicine", "207R00000X", 0.15),
            ("NP", "Nurse Practitioner, Adult Health", "363LA2200X", 0.15),
        ),
        {"spine": 0.45, "joint": 0.45, "sports-hand": 0.1},
        0.7,
    ),
    PracticeKind(
        "pediatrics",
        5,
        (
            "{town} Pediatrics",
            "Little Prairie Pediatrics",
            "{surname} Children's Clinic",
        ),
        (1, 4),
        (
            ("MD", "Pediatrics", "208000000X", 0.8),
            ("NP", "Nurse Practitioner, Pediatrics", "363LP0200X", 0.2),
        ),
        {"sports-hand": 1.0},  # spine sees patients from 16 (content.DEPARTMENTS)
        0.6,
    ),
    PracticeKind(
        "physical_therapy",
        8,
        (
            "{town} Physical Therapy",
            "MotionWorks Physical Therapy - {town}",
            "ProActive Rehab {town}",
            "Keystone Physical Therapy",
        ),
        (1, 4),
        (
            ("PT, DPT", "Physical Therapist", "225100000X", 0.6),
            ("PT, DPT", "Physical Therapist, Orthopedic", "2251X0800X", 0.4),
        ),
        {"sports-hand": 0.5, "spine": 0.35, "joint": 0.15},
        0.6,
        outbound_target=5,
    ),
    PracticeKind(
        "chiropractic",
        5,
        (
            "{surname} Chiropractic",
            "{town} Spine & Wellness Chiropractic",
        ),
        (1, 2),
        (("DC", "Chiropractor", "111N00000X", 1.0),),
        {"spine": 0.9, "sports-hand": 0.1},
        0.2,
    ),
    PracticeKind(
        "rheumatology",
        2,
        (
            "Central Illinois Rheumatology",
            "{town} Arthritis & Rheumatology",
        ),
        (1, 3),
        (("MD", "Rheumatology", "207RR0500X", 1.0),),
        {"joint": 0.7, "sports-hand": 0.2, "spine": 0.1},
        0.5,
        outbound_target=2,
    ),
    PracticeKind(
        "podiatry",
        3,
        ("{town} Foot & Ankle", "{surname} Podiatry"),
        (1, 2),
        (("DPM", "Podiatrist", "213E00000X", 1.0),),
        {"sports-hand": 1.0},
        0.4,
        outbound_target=1,
    ),
    PracticeKind(
        "urgent_care",
        3,
        ("{town} Urgent Care", "QuickCare Walk-In {town}"),
        (2, 4),
        (
            ("MD", "Emergency Medicine", "207P00000X", 0.4),
            ("DO", "Family Medicine", "207Q00000X", 0.3),
            ("PA-C", "Physician Assistant", "363A00000X", 0.3),
        ),
        {"sports-hand": 0.6, "spine": 0.25, "joint": 0.15},
        0.5,
    ),
    PracticeKind(
        "pain",
        1,
        ("Capital Area Pain Management",),
        (1, 3),
        (("MD", "Pain Medicine, Interventional", "208VP0014X", 1.0),),
        {"spine": 1.0},
        0.0,
        outbound_target=3,
    ),
    PracticeKind(
        "neurology",
        2,
        ("Sangamon Neurology Associates", "{town} Neurology"),
        (1, 3),
        (("MD", "Neurology", "2084N0400X", 1.0),),
        {"spine": 0.8, "sports-hand": 0.2},
        0.5,
        outbound_target=2,
    ),
    PracticeKind(
        "occupational",
        1,
        ("WorkWell Occupational Health",),
        (1, 2),
        (
            ("MD", "Occupational Medicine", "2083X0100X", 0.7),
            ("NP", "Nurse Practitioner, Family", "363LF0000X", 0.3),
        ),
        {"spine": 0.5, "sports-hand": 0.5},
        1.0,
    ),
]

TOWNS = [
    ("Springfield", "62702"),
    ("Springfield", "62704"),
    ("Chatham", "62629"),
    ("Rochester", "62563"),
    ("Sherman", "62684"),
    ("Jacksonville", "62650"),
    ("Lincoln", "62656"),
    ("Taylorville", "62568"),
    ("Decatur", "62521"),
    ("Decatur", "62526"),
    ("Petersburg", "62675"),
    ("Pana", "62557"),
    ("Litchfield", "62056"),
    ("Carlinville", "62626"),
    ("Mattoon", "61938"),
    ("Bloomington", "61701"),
    ("Pekin", "61554"),
    ("Beardstown", "62618"),
    ("Auburn", "62615"),
    ("Virden", "62690"),
    ("Hillsboro", "62049"),
    ("Havana", "62644"),
]

BEST_TIMES = [
    "before 8:30 am",
    "after 3 pm",
    "over lunch, Tuesdays or Thursdays",
    "mornings",
    "any time; answers the referral line directly",
    "Friday afternoons are quiet",
]
STAFF_NOTES = [
    "Decides where most orthopedic referrals go; likes a same-day fax confirmation.",
    "Prefers email over phone calls. Has two kids in travel soccer.",
    "Asked for a direct number for urgent add-ons.",
    "Returned the getting-to-know-you card: loves dark chocolate, birthday in October.",
    "New in the role since last spring; walk her through the referral form.",
    "Keeps a paper list of specialists by insurance; make sure we are on it.",
    "",
    "",
]
PROVIDER_NOTES = [
    "Trained in Chicago; interested in minimally invasive spine surgery.",
    "Prefers a phone call for urgent cases.",
    "Wants the consult note faxed, not mailed.",
    "Sends most knee patients to us; asks about recovery times.",
    "Met at the county medical society dinner.",
    "",
    "",
    "",
]

# Why we send our own patients out, per kind of receiving practice:
# (reason, ICD-10 codes, the department sending the patient).
OUTBOUND_REASONS: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "physical_therapy": [
        (
            "Rehabilitation after right total knee arthroplasty, 2-3 visits a week for 8 weeks.",
            ("Z96.651",),
            "joint",
        ),
        (
            "Rotator cuff repair protocol, phase 1, starting two weeks after surgery.",
            ("M75.101",),
            "sports-hand",
        ),
        (
            "Lumbar stabilization program for radiculopathy managed without surgery.",
            ("M54.16",),
            "spine",
        ),
        ("ACL reconstruction rehabilitation protocol.", ("S83.511A",), "sports-hand"),
    ],
    "pain": [
        (
            "Evaluation for radiofrequency ablation after two positive medial branch blocks.",
            ("M47.816",),
            "spine",
        ),
        ("Chronic low back pain after fusion; multimodal pain management.", ("M54.50",), "spine"),
    ],
    "rheumatology": [
        (
            "Symmetric small-joint synovitis with elevated CRP; please evaluate for inflammatory "
            "arthritis.",
            ("M25.541",),
            "sports-hand",
        ),
        (
            "Polyarticular joint pain with a positive ANA before elective arthroplasty.",
            ("M25.561",),
            "joint",
        ),
    ],
    "neurology": [
        (
            "EMG and nerve conduction study for suspected ulnar neuropathy at the elbow.",
            ("G56.21",),
            "sports-hand",
        ),
        (
            "Hand weakness out of proportion to cervical imaging; please evaluate.",
            ("M54.12",),
            "spine",
        ),
    ],
    "podiatry": [
        (
            "Diabetic foot care and custom orthotics after ankle fracture healing.",
            ("E11.42",),
            "sports-hand",
        ),
    ],
}

OUTBOUND_DECLINES = [
    (
        "no_capacity",
        "Not taking new patients until next quarter.",
        "Try MotionWorks Physical Therapy",
    ),
    ("insurance_not_accepted", "The patient's plan is out of network for this practice.", ""),
    ("outside_scope", "Does not perform this procedure.", "Refer to an academic pain center"),
]

OUTBOUND_REPORTS = [
    "Evaluation complete; plan of care and progress note received by fax.",
    "Consult report received; recommendations added to the chart.",
    "Therapy discharge summary received: goals met.",
]
