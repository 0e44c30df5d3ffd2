"""Tests of the FHIR facade."""
