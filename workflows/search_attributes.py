"""Custom search attributes the case workflow keeps current, so the Temporal UI can filter cases."""

from temporalio.common import SearchAttributeKey

CASE_STATUS = SearchAttributeKey.for_keyword("WuhuanCaseStatus")
CASE_COLOUR = SearchAttributeKey.for_keyword("WuhuanCaseColour")
CASE_UNIT = SearchAttributeKey.for_keyword("WuhuanCaseUnit")
CASE_TOWNSHIP = SearchAttributeKey.for_keyword("WuhuanCaseTownship")

ALL = (CASE_STATUS, CASE_COLOUR, CASE_UNIT, CASE_TOWNSHIP)
