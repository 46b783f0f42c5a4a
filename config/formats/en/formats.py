"""Date formats of the admin pages (SPEC §14: one date format everywhere): ISO dates and 24-hour
times, the same as the lists' and the order page's (sales/formatting.py), instead of English's
"Jan. 13, 2025, 3:13 a.m." on the admin's generic pages (customers, carts, products, users…).
Input formats are Django's own for English (ISO first), so forms read what they show."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
