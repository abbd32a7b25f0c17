pub mod tax_codes;
