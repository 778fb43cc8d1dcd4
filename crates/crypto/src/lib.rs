pub fn x(){}
pub mod radius;
