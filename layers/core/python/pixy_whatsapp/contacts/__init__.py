"""Recipients: marketing opt-outs and the customer-service window."""

from pixy_whatsapp.contacts.store import Contact, ContactStore, contact_key

__all__ = ["Contact", "ContactStore", "contact_key"]
