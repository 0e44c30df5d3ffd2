"""HL7 FHIR R4 facade over the platform's models (read-only for now): scoped, masked, audited."""
