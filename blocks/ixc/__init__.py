"""IXCSoft (IXC Provedor): the ISP's ERP, our system of record for contracts. Read only."""
