"""Where things are: the coarse grid cell public pages show, and great-circle distance in SQL."""
from __future__ import annotations

import math

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement

EARTH_RADIUS_KM = 6371.0088
#: cells are CELL_DEGREES on a side (about 11 km at the equator): coarse enough to hide a house
CELL_DEGREES = 0.1


def cell_of(latitude: float | None, longitude: float | None) -> tuple[int | None, int | None]:
    if latitude is None or longitude is None:
        return None, None
    return math.floor(latitude / CELL_DEGREES), math.floor(longitude / CELL_DEGREES)


def cell_centre(cell_lat: int | None, cell_lon: int | None) -> tuple[float | None, float | None]:
    if cell_lat is None or cell_lon is None:
        return None, None
    return round((cell_lat + 0.5) * CELL_DEGREES, 3), round((cell_lon + 0.5) * CELL_DEGREES, 3)


def distance_sql(lat1, lon1, lat2, lon2) -> ColumnElement[float]:
    """Haversine distance in km between two points, as a SQL expression (PostgreSQL and SQLite ≥ 3.35)."""
    dlat = func.radians(lat2 - lat1)
    dlon = func.radians(lon2 - lon1)
    a = (func.sin(dlat / 2) * func.sin(dlat / 2)
         + func.cos(func.radians(lat1)) * func.cos(func.radians(lat2)) * func.sin(dlon / 2) * func.sin(dlon / 2))
    bounded = case((a > 1.0, 1.0), else_=a)  # rounding can push it a hair above 1 for antipodes
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(bounded))


def cell_centre_sql(cell_column) -> ColumnElement[float]:
    return (cell_column + 0.5) * CELL_DEGREES
