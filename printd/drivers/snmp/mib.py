"""Printer-MIB (RFC 3805) and Host Resources MIB (RFC 2790) objects the poller reads.

OIDs are columns (no instance suffix) except the two system scalars. Enumerations keep the
RFC names so logs and `printd probe` speak the agent's language.
"""

from __future__ import annotations

Oid = tuple[int, ...]


def oid(dotted: str) -> Oid:
    return tuple(int(part) for part in dotted.strip(".").split("."))


SYS_DESCR = oid("1.3.6.1.2.1.1.1.0")
SYS_UPTIME = oid("1.3.6.1.2.1.1.3.0")

HR_DEVICE_TYPE = oid("1.3.6.1.2.1.25.3.2.1.2")
HR_DEVICE_STATUS = oid("1.3.6.1.2.1.25.3.2.1.5")
HR_DEVICE_PRINTER = oid("1.3.6.1.2.1.25.3.1.5")  # hrDeviceType value of a printer
HR_PRINTER_STATUS = oid("1.3.6.1.2.1.25.3.5.1.1")
HR_PRINTER_ERROR_STATE = oid("1.3.6.1.2.1.25.3.5.1.2")

PRT_GENERAL_SERIAL_NUMBER = oid("1.3.6.1.2.1.43.5.1.1.17")

PRT_COVER_DESCRIPTION = oid("1.3.6.1.2.1.43.6.1.1.2")
PRT_COVER_STATUS = oid("1.3.6.1.2.1.43.6.1.1.3")

PRT_INPUT_TYPE = oid("1.3.6.1.2.1.43.8.2.1.2")
PRT_INPUT_MAX_CAPACITY = oid("1.3.6.1.2.1.43.8.2.1.9")
PRT_INPUT_CURRENT_LEVEL = oid("1.3.6.1.2.1.43.8.2.1.10")
PRT_INPUT_MEDIA_NAME = oid("1.3.6.1.2.1.43.8.2.1.12")
PRT_INPUT_NAME = oid("1.3.6.1.2.1.43.8.2.1.13")
PRT_INPUT_DESCRIPTION = oid("1.3.6.1.2.1.43.8.2.1.18")

PRT_MARKER_LIFE_COUNT = oid("1.3.6.1.2.1.43.10.2.1.4")

PRT_SUPPLY_CLASS = oid("1.3.6.1.2.1.43.11.1.1.4")
PRT_SUPPLY_TYPE = oid("1.3.6.1.2.1.43.11.1.1.5")
PRT_SUPPLY_DESCRIPTION = oid("1.3.6.1.2.1.43.11.1.1.6")
PRT_SUPPLY_UNIT = oid("1.3.6.1.2.1.43.11.1.1.7")
PRT_SUPPLY_MAX_CAPACITY = oid("1.3.6.1.2.1.43.11.1.1.8")
PRT_SUPPLY_LEVEL = oid("1.3.6.1.2.1.43.11.1.1.9")

PRT_ALERT_SEVERITY = oid("1.3.6.1.2.1.43.18.1.1.2")
PRT_ALERT_GROUP = oid("1.3.6.1.2.1.43.18.1.1.4")
PRT_ALERT_CODE = oid("1.3.6.1.2.1.43.18.1.1.7")
PRT_ALERT_DESCRIPTION = oid("1.3.6.1.2.1.43.18.1.1.8")

# Table name for messages, by column.
TABLE_OF: dict[Oid, str] = {
    HR_DEVICE_TYPE: "hrDeviceTable",
    HR_DEVICE_STATUS: "hrDeviceTable",
    HR_PRINTER_STATUS: "hrPrinterTable",
    HR_PRINTER_ERROR_STATE: "hrPrinterTable",
    PRT_GENERAL_SERIAL_NUMBER: "prtGeneralTable",
    PRT_COVER_DESCRIPTION: "prtCoverTable",
    PRT_COVER_STATUS: "prtCoverTable",
    PRT_INPUT_TYPE: "prtInputTable",
    PRT_INPUT_MAX_CAPACITY: "prtInputTable",
    PRT_INPUT_CURRENT_LEVEL: "prtInputTable",
    PRT_INPUT_MEDIA_NAME: "prtInputTable",
    PRT_INPUT_NAME: "prtInputTable",
    PRT_INPUT_DESCRIPTION: "prtInputTable",
    PRT_MARKER_LIFE_COUNT: "prtMarkerTable",
    PRT_SUPPLY_CLASS: "prtMarkerSuppliesTable",
    PRT_SUPPLY_TYPE: "prtMarkerSuppliesTable",
    PRT_SUPPLY_DESCRIPTION: "prtMarkerSuppliesTable",
    PRT_SUPPLY_UNIT: "prtMarkerSuppliesTable",
    PRT_SUPPLY_MAX_CAPACITY: "prtMarkerSuppliesTable",
    PRT_SUPPLY_LEVEL: "prtMarkerSuppliesTable",
    PRT_ALERT_SEVERITY: "prtAlertTable",
    PRT_ALERT_GROUP: "prtAlertTable",
    PRT_ALERT_CODE: "prtAlertTable",
    PRT_ALERT_DESCRIPTION: "prtAlertTable",
}
COLUMN_NAME: dict[Oid, str] = {
    SYS_DESCR: "sysDescr",
    SYS_UPTIME: "sysUpTime",
    HR_DEVICE_TYPE: "hrDeviceType",
    HR_DEVICE_STATUS: "hrDeviceStatus",
    HR_PRINTER_STATUS: "hrPrinterStatus",
    HR_PRINTER_ERROR_STATE: "hrPrinterDetectedErrorState",
    PRT_GENERAL_SERIAL_NUMBER: "prtGeneralSerialNumber",
    PRT_COVER_DESCRIPTION: "prtCoverDescription",
    PRT_COVER_STATUS: "prtCoverStatus",
    PRT_INPUT_TYPE: "prtInputType",
    PRT_INPUT_MAX_CAPACITY: "prtInputMaxCapacity",
    PRT_INPUT_CURRENT_LEVEL: "prtInputCurrentLevel",
    PRT_INPUT_MEDIA_NAME: "prtInputMediaName",
    PRT_INPUT_NAME: "prtInputName",
    PRT_INPUT_DESCRIPTION: "prtInputDescription",
    PRT_MARKER_LIFE_COUNT: "prtMarkerLifeCount",
    PRT_SUPPLY_CLASS: "prtMarkerSuppliesClass",
    PRT_SUPPLY_TYPE: "prtMarkerSuppliesType",
    PRT_SUPPLY_DESCRIPTION: "prtMarkerSuppliesDescription",
    PRT_SUPPLY_UNIT: "prtMarkerSuppliesSupplyUnit",
    PRT_SUPPLY_MAX_CAPACITY: "prtMarkerSuppliesMaxCapacity",
    PRT_SUPPLY_LEVEL: "prtMarkerSuppliesLevel",
    PRT_ALERT_SEVERITY: "prtAlertSeverityLevel",
    PRT_ALERT_GROUP: "prtAlertGroup",
    PRT_ALERT_CODE: "prtAlertCode",
    PRT_ALERT_DESCRIPTION: "prtAlertDescription",
}
WALKED_COLUMNS: tuple[Oid, ...] = tuple(TABLE_OF)
# Columns whose values change while a printer works; the rest (descriptions, names, types,
# units, capacities) change only when something is replaced, which a level rising shows.
CHANGING_COLUMNS: tuple[Oid, ...] = (
    HR_DEVICE_STATUS,
    HR_PRINTER_STATUS,
    HR_PRINTER_ERROR_STATE,
    PRT_COVER_STATUS,
    PRT_INPUT_CURRENT_LEVEL,
    PRT_MARKER_LIFE_COUNT,
    PRT_SUPPLY_LEVEL,
    PRT_ALERT_SEVERITY,  # its rows are the alert table's rows: a new alert forces a walk
)
RISING_MEANS_REPLACED: tuple[Oid, ...] = (PRT_SUPPLY_LEVEL, PRT_INPUT_CURRENT_LEVEL)

HR_DEVICE_STATUS_NAMES = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
HR_PRINTER_STATUS_NAMES = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}

# hrPrinterDetectedErrorState: bit 0 is the most significant bit of the first octet.
ERROR_STATE_BITS: tuple[str, ...] = (
    "lowPaper",
    "noPaper",
    "lowToner",
    "noToner",
    "doorOpen",
    "jammed",
    "offline",
    "serviceRequested",
    "inputTrayMissing",
    "outputTrayMissing",
    "markerSupplyMissing",
    "outputNearFull",
    "outputFull",
    "inputTrayEmpty",
    "overduePreventMaint",
)

COVER_STATUS_NAMES = {
    1: "other",
    2: "unknown",
    3: "coverOpen",
    4: "coverClosed",
    5: "interlockOpen",
    6: "interlockClosed",
}
COVER_OPEN_VALUES = frozenset({3, 5})

SUPPLY_CLASS_CONSUMED = 3  # supplyThatIsConsumed
SUPPLY_CLASS_RECEPTACLE = 4  # receptacleThatIsFilled
SUPPLY_CLASS_NAMES = {1: "other", 3: "supplyThatIsConsumed", 4: "receptacleThatIsFilled"}
INPUT_TYPE_MANUAL = 5  # sheetFeedManual: a slot fed by hand, never the card hopper
SUPPLY_TYPE_NAMES = {
    1: "other",
    2: "unknown",
    3: "toner",
    4: "wasteToner",
    5: "ink",
    6: "inkCartridge",
    7: "inkRibbon",
    8: "wasteInk",
    9: "opc",
    10: "developer",
    11: "fuserOil",
    12: "solidWax",
    13: "ribbonWax",
    14: "wasteWax",
    15: "fuser",
    16: "coronaWire",
    17: "fuserOilWick",
    18: "cleanerUnit",
    19: "fuserCleaningPad",
    20: "transferUnit",
    21: "tonerCartridge",
    22: "fuserOiler",
    23: "water",
    24: "wasteWater",
    25: "glueWaterAdditive",
    26: "wastePaper",
    27: "bindingSupply",
    28: "bandingSupply",
    29: "stitchingWire",
    30: "shrinkWrap",
    31: "paperWrap",
    32: "staples",
    33: "inserts",
    34: "covers",
}
RIBBON_SUPPLY_TYPES = frozenset({7, 13})  # inkRibbon, ribbonWax
SUPPLY_UNIT_NAMES = {
    1: "other",
    2: "unknown",
    3: "tenThousandthsOfInches",
    4: "micrometers",
    7: "impressions",
    8: "sheets",
    11: "hours",
    12: "thousandthsOfOunces",
    13: "tenthsOfGrams",
    14: "hundrethsOfFluidOunces",
    15: "tenthsOfMilliliters",
    16: "feet",
    17: "meters",
    18: "items",
    19: "percent",
}
ALERT_SEVERITY_NAMES = {1: "other", 3: "critical", 4: "warning", 5: "warningBinaryChangeEvent"}


def decode_error_state(raw: bytes) -> frozenset[str]:
    """Names of the RFC 2790 bits set in hrPrinterDetectedErrorState (one, two or more octets).

    Bits past the 15 the RFC defines (an agent sending more octets) are ignored.
    """
    names: set[str] = set()
    for bit, name in enumerate(ERROR_STATE_BITS):
        octet, shift = divmod(bit, 8)
        if octet < len(raw) and raw[octet] & (0x80 >> shift):
            names.add(name)
    return frozenset(names)
