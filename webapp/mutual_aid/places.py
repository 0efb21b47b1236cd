"""Where things are: the coarse grid cell public pages show, distances between cells, and the bands people read.

Before a match is accepted, no figure may place a person more precisely than their cell: distances are
measured from cell centre to cell centre (a function of the two cells only, wherever the points lie in
them) and shown as a band, never as kilometres.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement

EARTH_RADIUS_KM = 6371.0088
#: cells are CELL_DEGREES on a side (about 11 km at the equator): coarse enough to hide a house
CELL_DEGREES = 0.1
#: the edges of the distance bands shown before acceptance, in km: "under 5 km", "5–10 km", ... "over 250 km"
BAND_EDGES_KM = (5, 10, 25, 50, 100, 250)


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


def point_cell_centre_sql(coordinate_column) -> ColumnElement[float]:
    """The centre of the cell a latitude (or longitude) column falls in, as cell_of would compute it."""
    return (func.floor(coordinate_column / CELL_DEGREES) + 0.5) * CELL_DEGREES


def _half_diagonal_km() -> float:
    """From a cell's centre to its corner at the equator, where cells are widest: no point is farther from
    its cell's centre."""
    h = math.radians(CELL_DEGREES / 2)
    a = math.sin(h / 2) ** 2 + math.cos(h) * math.sin(h / 2) ** 2  # haversine from (0, 0) to (h, h)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


#: a radius test made on cell centres widens the radius by this much, so that nobody inside is missed
CELL_HALF_DIAGONAL_KM = _half_diagonal_km()


def cell_distance_sql(cell_lat_column, cell_lon_column, cell_lat: int, cell_lon: int) -> ColumnElement[float]:
    """Distance in km between the centre of a row's cell and the centre of a given cell: the only distance
    anyone ranks or reads by before acceptance."""
    return distance_sql(cell_centre_sql(cell_lat_column), cell_centre_sql(cell_lon_column),
                        (cell_lat + 0.5) * CELL_DEGREES, (cell_lon + 0.5) * CELL_DEGREES)


@dataclass(frozen=True, order=True)
class DistanceBand:
    """A range of distances between two cells; `low` is None for the first band, `high` for the last."""

    index: int
    low: int | None
    high: int | None

    @property
    def label(self) -> str:
        if self.low is None:
            return _("under %(km)d km", km=self.high)
        if self.high is None:
            return _("over %(km)d km", km=self.low)
        return _("%(low)d–%(high)d km", low=self.low, high=self.high)

    def __str__(self) -> str:
        return self.label


def band_of(km: float | None) -> DistanceBand | None:
    """The band of a distance between cell centres (a distance on an edge goes to the farther band)."""
    if km is None:
        return None
    edges = (None, *BAND_EDGES_KM, None)
    for i in range(len(edges) - 1):
        high = edges[i + 1]
        if high is None or km < high:
            return DistanceBand(i, edges[i], high)
    raise AssertionError("unreachable")
