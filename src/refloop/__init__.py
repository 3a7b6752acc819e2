"""refloop: referral management and physician-relationship software."""

__version__ = "0.1.0"
