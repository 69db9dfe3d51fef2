"""pixy_whatsapp: the domain library behind the pixy-whatsapp Lambda functions."""

__version__ = "0.1.0"
