//! Hourly curves: one point's readings in one direction over one Italian month, summed per
//! hour and packed into a few kilobytes. They are kept beside the raw readings (which stay the
//! record) so that a settlement reads two rows per member instead of every reading, whatever
//! the meters' interval: a month of a thousand PODs is two thousand short values, not 750,000
//! (hourly) or three million (quarter-hourly) rows.
//!
//! A curve is derived data, rebuilt from the readings after every write that touches them, in
//! the same transaction; it never holds a value the readings do not. Everything the settlement
//! asks of a member's readings is an hourly sum, so nothing is lost: the energy and the minutes
//! of data per hour, and, for the inputs' fingerprint, how many readings, the sum of their
//! revisions and the last import that wrote one.
//!
//! The format (version 1): the version byte, the hour count, then per hour the number of
//! readings as a varint; an hour with readings goes on with its Wh (zig-zag varint), minutes,
//! revisions (varints) and its last import as a zig-zag difference from the previous hour's.
//! Hourly data take about five bytes an hour, an hour without readings one.
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Europe::Rome;

use super::energy_series::local_midnight;
use super::month::{
    HolderEnergy, HourInputs, HourMinutes, MemberInputs, MeterData, PodEnergy, Window,
};
use crate::models::enums::HolderType;

/// The readings of one hour of a curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HourCell {
    pub wh: i64,
    pub minutes: i64,
    pub rows: i64,
    pub revisions: i64,
    pub last_import: i64,
}

impl HourCell {
    /// Adds one reading (or an hour's sums from the database).
    pub fn add(&mut self, other: HourCell) {
        self.wh += other.wh;
        self.minutes += other.minutes;
        self.rows += other.rows;
        self.revisions += other.revisions;
        self.last_import = self.last_import.max(other.last_import);
    }
}

const FORMAT: u8 = 1;

/// Why stored bytes are not a curve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurveError {
    #[error("curve format {0} is not known to this build (it reads format {FORMAT})")]
    UnknownFormat(u8),
    #[error("the curve ends early")]
    Truncated,
    #[error("the curve has {0} bytes after its last hour")]
    TrailingBytes(usize),
    #[error("the curve has {found} hours where its month has {expected}")]
    WrongLength { found: usize, expected: usize },
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Result<u64, CurveError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or(CurveError::Truncated)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CurveError::Truncated)
    }

    fn count(&mut self) -> Result<i64, CurveError> {
        // Counts are non-negative and far below i64::MAX; a larger value is damage.
        i64::try_from(self.varint()?).map_err(|_| CurveError::Truncated)
    }
}

/// Packs a month's hours (index 0 = the month's first hour).
pub fn encode(cells: &[HourCell]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + cells.len() * 5);
    out.push(FORMAT);
    put_varint(&mut out, cells.len() as u64);
    let mut previous_import = 0i64;
    for cell in cells {
        put_varint(&mut out, cell.rows as u64);
        if cell.rows > 0 {
            put_varint(&mut out, zigzag(cell.wh));
            put_varint(&mut out, cell.minutes as u64);
            put_varint(&mut out, cell.revisions as u64);
            put_varint(&mut out, zigzag(cell.last_import - previous_import));
            previous_import = cell.last_import;
        }
    }
    out
}

/// Unpacks a curve of a month of `expected_hours` hours.
pub fn decode(bytes: &[u8], expected_hours: usize) -> Result<Vec<HourCell>, CurveError> {
    let (&format, _) = bytes.split_first().ok_or(CurveError::Truncated)?;
    if format != FORMAT {
        return Err(CurveError::UnknownFormat(format));
    }
    let mut reader = Reader { bytes, at: 1 };
    let hours = reader.varint()? as usize;
    if hours != expected_hours {
        return Err(CurveError::WrongLength {
            found: hours,
            expected: expected_hours,
        });
    }
    let mut cells = Vec::with_capacity(hours);
    let mut previous_import = 0i64;
    for _ in 0..hours {
        let rows = reader.count()?;
        if rows == 0 {
            cells.push(HourCell::default());
            continue;
        }
        let wh = unzigzag(reader.varint()?);
        let minutes = reader.count()?;
        let revisions = reader.count()?;
        let last_import = previous_import + unzigzag(reader.varint()?);
        previous_import = last_import;
        cells.push(HourCell {
            wh,
            minutes,
            rows,
            revisions,
            last_import,
        });
    }
    if reader.at != bytes.len() {
        return Err(CurveError::TrailingBytes(bytes.len() - reader.at));
    }
    Ok(cells)
}

/// An Italian calendar month as UNIX seconds `[start, end)`: the key and the span of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CurveMonth {
    pub start: i64,
    pub end: i64,
}

impl CurveMonth {
    /// The month starting on `first` (a first of the month).
    pub fn of(first: NaiveDate) -> CurveMonth {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        CurveMonth {
            start: local_midnight(first),
            end: local_midnight(next),
        }
    }

    /// The month an instant falls in (Italian time).
    pub fn containing(instant: i64) -> CurveMonth {
        let day = Rome
            .timestamp_opt(instant, 0)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default();
        CurveMonth::of(day.with_day(1).unwrap_or(day))
    }

    /// The month's first day.
    pub fn first_day(&self) -> NaiveDate {
        Rome.timestamp_opt(self.start, 0)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }

    /// Hours in the month: 743 in March, 745 in October, 24 × days otherwise.
    pub fn hours(&self) -> usize {
        ((self.end - self.start) / 3600) as usize
    }

    /// The hour's index in the month's curve.
    pub fn index(&self, instant: i64) -> usize {
        ((instant - self.start) / 3600) as usize
    }

    /// The months from the one containing `first` to the one containing `last`, in order.
    pub fn spanning(first: i64, last: i64) -> Vec<CurveMonth> {
        let mut months = vec![CurveMonth::containing(first)];
        while let Some(month) = months.last().copied()
            && month.end <= last
        {
            months.push(CurveMonth::containing(month.end));
        }
        months
    }
}

/// Folds hourly sums, ordered by hour, into the curves of the months they fall in (only months
/// with at least one reading). `(hour start, cell)` pairs outside whole hours are refused.
pub fn curves_of(hours: &[(i64, HourCell)]) -> Vec<(CurveMonth, Vec<HourCell>)> {
    let mut curves: Vec<(CurveMonth, Vec<HourCell>)> = Vec::new();
    for &(hour, cell) in hours {
        let current = match curves.last_mut() {
            Some((month, cells)) if hour >= month.start && hour < month.end => (month, cells),
            _ => {
                let month = CurveMonth::containing(hour);
                curves.push((month, vec![HourCell::default(); month.hours()]));
                let (month, cells) = curves.last_mut().expect("just pushed");
                (month, cells)
            }
        };
        let index = current.0.index(hour);
        current.1[index].add(cell);
    }
    curves
}

/// One member's curves of the month, as stored (`None`: no reading in that direction).
#[derive(Clone, Debug, Default)]
pub struct MemberCurves {
    pub withdrawal: Option<Vec<HourCell>>,
    pub injection: Option<Vec<HourCell>>,
}

/// What a month's settlement reads of the members' readings, computed from their curves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthReadings {
    /// The hours with data of any membership in the month (GSE-counted or not), with the
    /// counted memberships' totals, each producer's injection and, where `exempt_holder` says
    /// so, withdrawal by holder type.
    pub hours: Vec<HourInputs>,
    /// Per member (in `members`' order): withdrawal and injection over its counted window,
    /// `None` where it has no reading there; the uncovered hours are filled in when
    /// `minutes` fall short of the window.
    pub meters: Vec<(Option<MeterData>, Option<MeterData>)>,
}

/// What the month asks of a member beyond its windows.
pub struct ReadAs {
    /// Its injection is listed per POD and hour (it has plants).
    pub producing: bool,
    /// Its withdrawal is summed per hour under this holder type (F exemptions).
    pub exempt_holder: Option<HolderType>,
}

/// The month's readings from the members' curves: the hourly totals over the counted windows,
/// each member's sums, and its weight `Σ_h wh × 1000 × EAC_h / With_h` (milli-Wh, truncated per
/// hour, exact in 128 bits). `derived_holder` is the holder type whose withdrawal is the hour's
/// total less the other holder types' (it is not summed member by member).
pub fn month_readings(
    month: CurveMonth,
    members: &[(&MemberInputs, ReadAs, &MemberCurves)],
    derived_holder: Option<HolderType>,
) -> MonthReadings {
    let n = month.hours();
    let range = |w: Window| -> std::ops::Range<usize> {
        let clip = |t: i64| (((t.clamp(month.start, month.end)) - month.start) / 3600) as usize;
        clip(w.from)..clip(w.to.max(w.from))
    };
    let mut present = vec![false; n];
    let mut injected = vec![0i64; n];
    let mut withdrawn = vec![0i64; n];
    let mut injection: Vec<Vec<PodEnergy>> = vec![Vec::new(); n];
    let mut exempt: Vec<Vec<HolderEnergy>> = vec![Vec::new(); n];
    for (member, role, curves) in members {
        let counted = range(member.counted);
        for (cells, is_withdrawal) in [(&curves.withdrawal, true), (&curves.injection, false)] {
            let Some(cells) = cells else { continue };
            for i in range(member.membership) {
                present[i] |= cells[i].rows > 0;
            }
            for i in counted.clone() {
                let cell = cells[i];
                if cell.rows == 0 {
                    continue;
                }
                if is_withdrawal {
                    withdrawn[i] += cell.wh;
                    if let Some(holder_type) = role.exempt_holder {
                        match exempt[i].iter_mut().find(|e| e.holder_type == holder_type) {
                            Some(e) => e.wh += cell.wh,
                            None => exempt[i].push(HolderEnergy {
                                holder_type,
                                wh: cell.wh,
                            }),
                        }
                    }
                } else {
                    injected[i] += cell.wh;
                    if role.producing {
                        injection[i].push(PodEnergy {
                            pod: member.pod.clone(),
                            wh: cell.wh,
                        });
                    }
                }
            }
        }
    }
    let meters = members
        .iter()
        .map(|(member, _, curves)| {
            let counted = range(member.counted);
            let meter = |cells: &Option<Vec<HourCell>>, weigh: bool| -> Option<MeterData> {
                let cells = cells.as_ref()?;
                let mut data = MeterData::default();
                let mut shared_mwh = 0i128;
                for i in counted.clone() {
                    let cell = cells[i];
                    if cell.rows == 0 {
                        continue;
                    }
                    data.wh += cell.wh;
                    data.minutes += cell.minutes;
                    data.rows += cell.rows;
                    data.revisions += cell.revisions;
                    data.last_import = data.last_import.max(cell.last_import);
                    let shared = injected[i].min(withdrawn[i]);
                    if weigh && shared > 0 && withdrawn[i] > 0 {
                        shared_mwh += i128::from(cell.wh) * 1000 * i128::from(shared)
                            / i128::from(withdrawn[i]);
                    }
                }
                if data.rows == 0 {
                    return None;
                }
                // Each term is at most 1000 × the hour's Wh (EAC_h ≤ With_h), so the weight is at
                // most 1000 × `data.wh`: it fits whenever the month's energy does.
                data.shared_mwh = i64::try_from(shared_mwh).unwrap_or(i64::MAX);
                if data.minutes < member.counted.hours() * 60 {
                    data.covered_hours = counted
                        .clone()
                        .filter(|i| cells[*i].rows > 0)
                        .map(|i| HourMinutes {
                            hour: month.start + 3600 * i as i64,
                            minutes: cells[i].minutes,
                        })
                        .collect();
                }
                Some(data)
            };
            (
                meter(&curves.withdrawal, true),
                meter(&curves.injection, false),
            )
        })
        .collect();
    let hours = (0..n)
        .filter(|i| present[*i])
        .map(|i| {
            let mut injection = std::mem::take(&mut injection[i]);
            injection.sort();
            let mut exempt_capable_withdrawal = std::mem::take(&mut exempt[i]);
            if let Some(holder_type) = derived_holder {
                let others: i64 = exempt_capable_withdrawal.iter().map(|e| e.wh).sum();
                exempt_capable_withdrawal.push(HolderEnergy {
                    holder_type,
                    wh: withdrawn[i] - others,
                });
            }
            exempt_capable_withdrawal.sort_by_key(|e| e.holder_type.as_str());
            HourInputs {
                start: month.start + 3600 * i as i64,
                injected_wh: injected[i],
                withdrawn_wh: withdrawn[i],
                injection,
                exempt_capable_withdrawal,
            }
        })
        .collect();
    MonthReadings { hours, meters }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(wh: i64, minutes: i64, rows: i64, revisions: i64, last_import: i64) -> HourCell {
        HourCell {
            wh,
            minutes,
            rows,
            revisions,
            last_import,
        }
    }

    #[test]
    fn round_trips_every_kind_of_hour() {
        let cells = vec![
            cell(0, 60, 1, 1, 7),
            HourCell::default(),
            cell(1_234_567, 60, 4, 5, 9),
            cell(-3, 15, 1, 1, 2),
            cell(i64::MAX / 1000, 75, 5, 9, 2),
            HourCell::default(),
        ];
        let bytes = encode(&cells);
        assert_eq!(decode(&bytes, 6).unwrap(), cells);
    }

    #[test]
    fn hourly_data_take_a_few_bytes_an_hour() {
        let cells: Vec<HourCell> = (0..744).map(|h| cell(h % 3000, 60, 1, 1, 42)).collect();
        let bytes = encode(&cells);
        assert!(bytes.len() < 744 * 6, "{} bytes", bytes.len());
    }

    #[test]
    fn damage_is_named_not_read_as_zeros() {
        let bytes = encode(&[cell(5, 60, 1, 1, 3), cell(6, 60, 1, 1, 3)]);
        assert_eq!(
            decode(&bytes[..bytes.len() - 1], 2),
            Err(CurveError::Truncated)
        );
        assert_eq!(
            decode(&bytes, 3),
            Err(CurveError::WrongLength {
                found: 2,
                expected: 3
            })
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer, 2), Err(CurveError::TrailingBytes(1)));
        let mut other = bytes;
        other[0] = 9;
        assert_eq!(decode(&other, 2), Err(CurveError::UnknownFormat(9)));
        assert_eq!(decode(&[], 2), Err(CurveError::Truncated));
    }

    #[test]
    fn months_follow_italian_time() {
        let march = CurveMonth::of(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        assert_eq!(march.hours(), 743);
        let october = CurveMonth::of(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
        assert_eq!(october.hours(), 745);
        // 1 March 00:00 in Rome is 28 February 23:00 UTC.
        assert_eq!(CurveMonth::containing(march.start), march);
        assert_eq!(
            march.first_day(),
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
        );
        assert_eq!(CurveMonth::containing(march.start - 3600).end, march.start);
        assert_eq!(CurveMonth::containing(march.end - 1), march);
        let span = CurveMonth::spanning(march.start + 7200, october.start);
        assert_eq!(span.len(), 8);
        assert_eq!(span[0], march);
        assert_eq!(span[7], october);
        assert_eq!(
            CurveMonth::spanning(march.start, march.end - 1),
            vec![march]
        );
    }

    #[test]
    fn hours_fold_into_their_months() {
        let march = CurveMonth::of(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        let april = CurveMonth::of(NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
        let curves = curves_of(&[
            (march.start, cell(10, 60, 1, 1, 1)),
            (march.end - 3600, cell(5, 15, 1, 1, 1)),
            (march.end - 3600, cell(6, 15, 1, 2, 3)),
            (april.start + 3600, cell(7, 60, 1, 1, 2)),
        ]);
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].0, march);
        assert_eq!(curves[0].1[0], cell(10, 60, 1, 1, 1));
        assert_eq!(curves[0].1[742], cell(11, 30, 2, 3, 3));
        assert_eq!(curves[1].0, april);
        assert_eq!(curves[1].1[1], cell(7, 60, 1, 1, 2));
        assert_eq!(curves[1].1.iter().filter(|c| c.rows > 0).count(), 1);
    }
}
