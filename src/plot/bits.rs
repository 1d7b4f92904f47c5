//! A floating-point bit pattern laid out as a row of cells, one per bit, each tagged with the
//! field it belongs to (sign, exponent or mantissa) so the page can colour it.

use engine::labs::number_formats::Format;

/// The field a bit belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitField {
    /// The one sign bit.
    Sign,
    /// A bit of the biased exponent.
    Exponent,
    /// A bit of the stored mantissa.
    Mantissa,
}

impl BitField {
    /// The CSS class that colours a cell of this field.
    pub fn class(self) -> &'static str {
        match self {
            BitField::Sign => "bit-sign",
            BitField::Exponent => "bit-exponent",
            BitField::Mantissa => "bit-mantissa",
        }
    }

    /// The field's name, for a cell's accessible label.
    pub fn name(self) -> &'static str {
        match self {
            BitField::Sign => "sign",
            BitField::Exponent => "exponent",
            BitField::Mantissa => "mantissa",
        }
    }
}

/// One bit of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitCell {
    /// Position from the sign bit (0) to the last mantissa bit.
    pub position: u32,
    /// The field this bit belongs to.
    pub field: BitField,
    /// Whether the bit is 1.
    pub set: bool,
}

/// The cells of a bit pattern in `format`, sign bit first.
pub fn bit_cells(format: &Format, bits: u32) -> Vec<BitCell> {
    (0..format.width())
        .map(|position| {
            let field = if position == 0 {
                BitField::Sign
            } else if position <= format.exponent_bits {
                BitField::Exponent
            } else {
                BitField::Mantissa
            };
            BitCell { position, field, set: format.bit_is_set(bits, position) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::labs::number_formats::{FP16, FP8_E4M3};

    #[test]
    fn fp16_one_is_a_sign_five_exponent_bits_and_ten_mantissa_bits() {
        let cells = bit_cells(&FP16, 0x3C00);
        assert_eq!(cells.len(), 16);
        assert_eq!(cells[0], BitCell { position: 0, field: BitField::Sign, set: false });
        assert!(cells[1..6].iter().all(|c| c.field == BitField::Exponent));
        assert_eq!(cells[1..6].iter().map(|c| c.set).collect::<Vec<_>>(), [false, true, true, true, true]);
        assert!(cells[6..].iter().all(|c| c.field == BitField::Mantissa && !c.set));
        let e4m3 = bit_cells(&FP8_E4M3, 0x7E);
        assert_eq!(e4m3.iter().filter(|c| c.field == BitField::Exponent).count(), 4);
        assert_eq!(e4m3.iter().map(|c| c.set as u8).collect::<Vec<_>>(), [0, 1, 1, 1, 1, 1, 1, 0]);
    }
}
